"""The contract between the provisioner and a box agent, over HTTP.

``BoxConfig`` is what a box is set up with (``GET /api/v1/boxes/{id}/config`` gives it to
the node's technicians and operators, with a new token each time: the previous one stops
working, so a box runs with the configuration fetched last). ``DesiredState`` is
what the agent fetches on every (re)connect from ``GET /api/v1/boxes/{id}/desired`` with its
token as ``Authorization: Bearer <token>``.
"""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from guificloud.states import SetState

DIGEST_PATTERN = r"^sha256:[0-9a-f]{64}$"


class BoxConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    box_id: UUID
    token: str = Field(min_length=16)
    provisioner_url: str
    nats_url: str
    heartbeat_interval_s: float = Field(5.0, gt=0)
    trusted_keys: dict[str, str] = Field(
        default_factory=dict, description="Publisher key id -> base64 ed25519 public key"
    )


class DistroSpec(BaseModel):
    """The platform image the box must run; ``url`` is absolute (the image store's blob)."""

    model_config = ConfigDict(frozen=True)

    name: str
    version: str
    digest: str = Field(pattern=DIGEST_PATTERN)
    size: int = Field(ge=0)
    url: str
    arch: str | None = None
    signature: str | None = Field(None, description="base64 ed25519, see guificloud.signing")
    key_id: str | None = None


class SliverSpec(BaseModel):
    """One sliver the box must hold, as the provisioner wants it.

    ``set_state`` is already the effective one. ``register``: nothing on the box (a container
    left from before is destroyed); ``deploy``: image fetched and verified, resources
    reserved, container made but stopped; ``start``: container running. A new ``instance``
    (a reset of the slice) means: destroy what exists and make it again from the image.
    """

    model_config = ConfigDict(frozen=True)

    sliver_id: UUID
    slice_id: UUID
    slice_name: str
    instance: int = Field(ge=0)
    set_state: SetState
    image: DistroSpec
    memory_mb: int = Field(gt=0)
    disk_mb: int = Field(gt=0)
    cpu_share: float = Field(gt=0, description="CPUs the sliver may use (1.0 = one core)")


class DesiredState(BaseModel):
    model_config = ConfigDict(frozen=True)

    box_id: UUID
    generation: int = Field(ge=0, description="Bumped on every change of desired state")
    distro: DistroSpec | None = None
    heartbeat_interval_s: float = Field(5.0, gt=0)
    trusted_keys: dict[str, str] = Field(
        default_factory=dict, description="Publisher key id -> base64 ed25519 public key"
    )
    key_names: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Publisher key id -> the image names (or patterns) it may sign, for the "
        "keys whose names are known (see guificloud.key_names)",
    )
    slivers: list[SliverSpec] = Field(
        default_factory=list, description="Every sliver the box must hold; others are removed"
    )
