"""What the provisioner's API returns."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict

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
