"""What the registry's API takes and returns."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from guificloud.events.registry import CLOUD_DEVICE_TYPES, DEVICE_TYPES, Hardware, NodeStatus


class ZoneIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    parent_id: UUID | None = None


class ZoneOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    name: str
    parent_id: UUID | None
    created_at: datetime


class NodeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    zone_id: UUID
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    status: NodeStatus = "Planned"


class NodeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    name: str
    zone_id: UUID
    latitude: float
    longitude: float
    status: NodeStatus
    created_at: datetime
    updated_at: datetime


class DeviceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    type: str = Field(description=f"Guifi device type, one of {sorted(DEVICE_TYPES)}")
    hardware: Hardware | None = Field(
        None,
        validate_default=True,
        description=f"Required for the cloud types {sorted(CLOUD_DEVICE_TYPES)}",
    )

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if value not in DEVICE_TYPES:
            raise ValueError(
                f"unknown device type {value!r}; known types: {', '.join(sorted(DEVICE_TYPES))}"
            )
        return value

    @field_validator("hardware")
    @classmethod
    def _cloud_needs_hardware(cls, value: Hardware | None, info: ValidationInfo) -> Hardware | None:
        kind = info.data.get("type")
        if kind in CLOUD_DEVICE_TYPES and value is None:
            raise ValueError(
                f"a {kind!r} device is a cloud box: "
                "hardware (arch, cores, ram_mb, disk_gb) is required"
            )
        return value


class DeviceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    node_id: UUID
    name: str
    type: str
    hardware: Hardware | None
    created_at: datetime
