"""Devices on a node: guifi.net's types, and the cloud types with their hardware."""

from __future__ import annotations

from datetime import datetime
from ipaddress import IPv4Address
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from guificloud.events.registry import CLOUD_DEVICE_TYPES, DEVICE_TYPES, Hardware, NodeStatus
from guificloud.inputs import JsonString
from guificloud_registry.schemas.common import Description, ExternalId, Name


def _known_type(value: str | None) -> str | None:
    if value is not None and value not in DEVICE_TYPES:
        raise ValueError(
            f"unknown device type {value!r}; known types: {', '.join(sorted(DEVICE_TYPES))}"
        )
    return value


class _DeviceFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    main_ipv4: Annotated[IPv4Address, JsonString] | None = None
    model: str | None = Field(None, min_length=1, max_length=200)
    firmware: str | None = Field(None, min_length=1, max_length=100)
    description: Description | None = None


class DeviceIn(_DeviceFields):
    name: Name
    type: str = Field(description=f"Guifi device type, one of {sorted(DEVICE_TYPES)}")
    status: NodeStatus = "Working"
    hardware: Hardware | None = Field(
        None,
        validate_default=True,
        description=f"Required for the cloud types {sorted(CLOUD_DEVICE_TYPES)}",
    )
    external_id: ExternalId | None = None

    _type = field_validator("type")(_known_type)

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


class DevicePatch(_DeviceFields):
    """Only the fields sent change; a cloud type still needs its hardware."""

    name: Name | None = None
    type: str | None = None
    status: NodeStatus | None = None
    hardware: Hardware | None = None

    _type = field_validator("type")(_known_type)


class DeviceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    external_id: int | None
    node_id: UUID
    name: str
    type: str
    status: str
    main_ipv4: str | None
    model: str | None
    firmware: str | None
    snmp_index: str | None
    hardware: Hardware | None
    description: str | None
    created_at: datetime
    updated_at: datetime
    version: int
