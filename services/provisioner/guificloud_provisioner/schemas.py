"""What the provisioner's API returns."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from guificloud.boxes import DistroSpec
from guificloud.states import AgentState, BoxState


class TransitionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    from_state: BoxState | None
    to_state: BoxState
    reason: str | None
    at: datetime


class BoxOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    node_id: UUID
    zone_id: UUID
    name: str
    device_type: str
    arch: str
    cores: int
    ram_mb: int
    disk_gb: int
    state: BoxState
    reason: str | None
    generation: int
    desired_distro: DistroSpec | None
    distro_digest: str | None
    agent_state: AgentState | None
    last_report_at: datetime | None
    allocated_memory_mb: int = 0
    allocated_disk_mb: int = 0
    online: bool | None = None
    created_at: datetime
    updated_at: datetime


class BoxDetail(BoxOut):
    history: list[TransitionOut]


class DistroOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    image_id: UUID
    name: str
    version: str
    arch: str
    channel: str
    digest: str
    size: int
    published_at: datetime


class DistroAssignIn(BaseModel):
    """Which distro version boxes move to; the current one for their arch when omitted."""

    model_config = ConfigDict(frozen=True)

    version: str | None = Field(
        None, min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9._-]*$"
    )


class DistroRolloutIn(DistroAssignIn):
    box_ids: list[UUID] | None = Field(
        None, max_length=1000, description="The boxes that move; every configured box if omitted"
    )


class DistroAssigned(BaseModel):
    box_id: UUID
    version: str
    digest: str
    changed: bool = Field(description="False when the box had it as desired already")
