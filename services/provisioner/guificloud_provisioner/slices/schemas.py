"""What the slice API takes and returns. Unknown fields are refused (422 naming them)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from guificloud.boxes import DIGEST_PATTERN
from guificloud.events.registry import Arch
from guificloud.inputs import Int32
from guificloud.states import SetState, SliverState

MAX_MEMORY_MB = 2048
MAX_DISK_MB = 1000


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ImageRef(_In):
    """``{name, version?}`` (the newest published build when no version) or ``{digest}``."""

    name: str | None = Field(None, min_length=1, max_length=200)
    version: str | None = Field(None, min_length=1, max_length=100)
    digest: str | None = Field(None, pattern=DIGEST_PATTERN)

    @model_validator(mode="after")
    def _one_way(self) -> ImageRef:
        if (self.name is None) == (self.digest is None):
            raise ValueError("give the image's name (and version) or its digest, not both")
        if self.version is not None and self.name is None:
            raise ValueError("a version goes with a name")
        return self


class SliverDefaults(_In):
    """Per sliver, as Community-Lab had: memory 512 MiB (at most 2048), disk 200 MiB (at
    most 1000)."""

    memory_mb: int = Field(512, ge=32, le=MAX_MEMORY_MB)
    disk_mb: int = Field(200, ge=10, le=MAX_DISK_MB)
    cpu_share: float = Field(1.0, gt=0, le=64)


class Placement(_In):
    """Explicit ``boxes``, or a ``count`` with constraints (``zone_id``: that zone's whole
    subtree; ``spread``: at most one sliver per node)."""

    boxes: list[UUID] | None = Field(None, min_length=1, max_length=10_000)
    count: int | None = Field(None, ge=1, le=10_000)
    zone_id: UUID | None = None
    arch: Arch | None = None
    min_free_memory_mb: Annotated[Int32, Field(ge=0)] = 0
    min_free_disk_mb: Annotated[Int32, Field(ge=0)] = 0
    spread: bool = True

    @model_validator(mode="after")
    def _one_way(self) -> Placement:
        if (self.boxes is None) == (self.count is None):
            raise ValueError("give either boxes or a count")
        return self


class SliceIn(_In):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=5000)
    group_id: UUID = Field(
        description="The group the slice belongs to (for good): it must be allowed slices, "
        "the caller must be its slice_admin or group_admin, and its quotas must have room."
    )
    image: ImageRef
    sliver_defaults: SliverDefaults = SliverDefaults()
    placement: Placement
    replace_on_loss: bool = False
    set_state: SetState = "register"
    expires_in_days: float = Field(30.0, gt=0)


class SlicePatch(_In):
    set_state: SetState | None = None
    description: str | None = Field(None, max_length=5000)


class SlicePut(_In):
    """The slice's descriptive fields as a whole; a state change is a PATCH of ``set_state``,
    and a slice never changes group (a differing ``set_state`` or ``group_id`` is a 422)."""

    name: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=5000)
    group_id: UUID | None = None
    set_state: SetState | None = None


class SliverIn(_In):
    box_id: UUID


class SliverPatch(_In):
    """``set_state`` may only lower the slice's (null: follow the slice); ``image``
    overrides the slice's (null: back to the slice's)."""

    set_state: SetState | None = None
    image: ImageRef | None = None


class ImageOut(BaseModel):
    name: str
    version: str
    digest: str


class SliceOut(BaseModel):
    id: UUID
    name: str
    description: str
    group_id: UUID | None
    """None: a slice made before groups (operators manage it)."""
    owner_group: str
    """The group's name when the slice was made."""
    image: ImageOut
    sliver_defaults: SliverDefaults
    placement: dict[str, Any]
    replace_on_loss: bool
    set_state: SetState
    instance: int
    expires_at: datetime
    created_at: datetime
    updated_at: datetime
    counts: dict[str, int]
    settled: bool
    deleted_at: datetime | None = None


class SliverOut(BaseModel):
    id: UUID
    slice_id: UUID
    box_id: UUID
    node_id: UUID
    zone_id: UUID
    set_state: SetState | None
    effective_set_state: SetState
    image: ImageOut
    memory_mb: int
    disk_mb: int
    cpu_share: float
    instance: int
    state: SliverState
    reason: str | None
    replaces: UUID | None
    removing: bool
    updated_at: datetime


class SliverTransitionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    from_state: SliverState | None
    to_state: SliverState
    reason: str | None
    at: datetime


class SliverDetail(SliverOut):
    history: list[SliverTransitionOut]
