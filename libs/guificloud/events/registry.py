"""Events of the registry: zones, nodes and devices of the community network."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from guificloud.events.envelope import Event

NodeStatus = Literal["Planned", "Reserved", "Building", "Testing", "Working", "Inactive", "Dropped"]

# Guifi.net's own device types (the "Add device" list of the Guifi web).
DEVICE_TYPES: frozenset[str] = frozenset(
    {
        "radio",
        "server",
        "nat",
        "adsl",
        "cam",
        "phone",
        "generic",
        "ups",
        "switch",
        "rocketdock",
        "cloudy",
        "confine",
    }
)
# The types that are cloud resources: "confine" is the Confine/Clommunity box, "cloudy" the
# Cloudy distribution box. A device of these types is onboarded as a cloud box.
CLOUD_DEVICE_TYPES: frozenset[str] = frozenset({"confine", "cloudy"})

Arch = Literal["amd64", "i386", "arm64", "armhf"]


class Hardware(BaseModel):
    """What a cloud box brings: the scheduler and the distro choice depend on it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    arch: Arch
    cores: int = Field(ge=1, le=256)
    ram_mb: int = Field(ge=256, le=1_048_576)
    disk_gb: int = Field(ge=1, le=65_536)


class ZoneCreated(Event):
    TYPE = "registry.zone.created"
    SUBJECT = "registry.zone.created"

    zone_id: UUID
    name: str
    parent_id: UUID | None


class NodeCreated(Event):
    TYPE = "registry.node.created"
    SUBJECT = "registry.node.created"

    node_id: UUID
    name: str
    zone_id: UUID
    latitude: float
    longitude: float
    status: NodeStatus


class NodeUpdated(Event):
    """Only the fields that changed are set in ``changes``."""

    TYPE = "registry.node.updated"
    SUBJECT = "registry.node.updated"

    node_id: UUID
    changes: dict[str, object]


class DeviceAdded(Event):
    TYPE = "registry.device.added"
    SUBJECT = "registry.device.added"

    device_id: UUID
    node_id: UUID
    zone_id: UUID
    name: str
    type: str
    hardware: Hardware | None = None
