"""Events of the registry: the Guifi.net network model (zones, nodes, devices, radios,
interfaces, links and services).

One change by a member is one event (``registry.<entity>.<verb>``) carrying the fields that
changed. A CNML import changes thousands of records in one transaction: it publishes the same
facts grouped, ``registry.<entity>.imported`` with a list of :class:`ImportedChange` (each
with the record's id, its Guifi id and its changed fields), plus one ``registry.cnml.imported``
summary. An import that changes nothing publishes nothing.

Imported devices do not start onboarding: CNML carries no hardware, so only a member adding
a cloud device (``registry.device.added``) does.
"""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from guificloud.events.envelope import Event

NodeStatus = Literal["Planned", "Reserved", "Building", "Testing", "Working", "Inactive", "Dropped"]
NODE_STATUSES: tuple[str, ...] = (
    "Planned",
    "Reserved",
    "Building",
    "Testing",
    "Working",
    "Inactive",
    "Dropped",
)

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
        "generator",
        "battery",
        "breaker",
        "switch",
        "rocketdock",
        "cloudy",
        "confine",
    }
)
# The types that are cloud resources: "confine" is the Confine/Clommunity box, "cloudy" the
# Cloudy distribution box. A device of these types is onboarded as a cloud box.
CLOUD_DEVICE_TYPES: frozenset[str] = frozenset({"confine", "cloudy"})

# Guifi.net's service types (user and management ones), and the community cloud's own.
GUIFI_SERVICE_TYPES: frozenset[str] = frozenset(
    {
        "meteo",
        "radio",
        "web",
        "VPS",
        "tv",
        "wol",
        "Proxy",
        "mail",
        "irc",
        "teamspeak",
        "ftp",
        "asterisk",
        "apt-cache",
        "AP",
        "IM",
        "p2p",
        "VPN",
        "Streaming",
        "games",
        "cam",
        "iperf",
        "LDAP",
        "DNS",
        "SNPgraphs",
        "NTP",
        "AirControl",
    }
)
CLOUD_SERVICE_TYPES: frozenset[str] = frozenset(
    {
        "tahoe-lafs-introducer",
        "tahoe-lafs-storage",
        "syncthing",
        "peerstreamer",
        "serf",
        "ipfs",
        "docker-registry",
    }
)
SERVICE_TYPES: frozenset[str] = GUIFI_SERVICE_TYPES | CLOUD_SERVICE_TYPES

Arch = Literal["amd64", "i386", "arm64", "armhf"]


class Hardware(BaseModel):
    """What a cloud box brings: the scheduler and the distro choice depend on it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    arch: Arch
    cores: int = Field(ge=1, le=256)
    ram_mb: int = Field(ge=256, le=1_048_576)
    disk_gb: int = Field(ge=1, le=65_536)


def _fields() -> Any:
    return Field(default_factory=dict, description="Every other field of the new record.")


class ZoneCreated(Event):
    TYPE = "registry.zone.created"
    SUBJECT = "registry.zone.created"

    zone_id: UUID
    name: str
    parent_id: UUID | None
    fields: dict[str, Any] = _fields()


class ZoneUpdated(Event):
    """Only the fields that changed are set in ``changes`` (``parent_id`` when it moved)."""

    TYPE = "registry.zone.updated"
    SUBJECT = "registry.zone.updated"

    zone_id: UUID
    changes: dict[str, Any]


class ZoneDeleted(Event):
    TYPE = "registry.zone.deleted"
    SUBJECT = "registry.zone.deleted"

    zone_id: UUID


class Ownership(BaseModel):
    """Who a node belongs to: a member, a group, or both (a member's node run for a group).
    Its owners (the member; the group's group and node admins) manage it and its boxes.
    Both unset: a node imported from guifi.net that no member has claimed yet (operators
    and the zone's maintainers manage it)."""

    model_config = ConfigDict(frozen=True)

    owner_account_id: UUID | None = None
    owner_group_id: UUID | None = None


class NodeCreated(Event):
    TYPE = "registry.node.created"
    SUBJECT = "registry.node.created"

    node_id: UUID
    name: str
    zone_id: UUID
    latitude: float
    longitude: float
    status: NodeStatus
    fields: dict[str, Any] = _fields()
    owner: Ownership = Field(default_factory=Ownership)


class NodeOwnerChanged(Event):
    """A node passed to other owners (its devices and boxes with it)."""

    TYPE = "registry.node.owner_changed"
    SUBJECT = "registry.node.owner_changed"

    node_id: UUID
    owner: Ownership


class NodeUpdated(Event):
    """Only the fields that changed are set in ``changes``."""

    TYPE = "registry.node.updated"
    SUBJECT = "registry.node.updated"

    node_id: UUID
    changes: dict[str, object]


class NodeDeleted(Event):
    TYPE = "registry.node.deleted"
    SUBJECT = "registry.node.deleted"

    node_id: UUID


class DeviceAdded(Event):
    TYPE = "registry.device.added"
    SUBJECT = "registry.device.added"

    device_id: UUID
    node_id: UUID
    zone_id: UUID
    name: str
    type: str
    hardware: Hardware | None = None
    fields: dict[str, Any] = _fields()
    owner: Ownership = Field(default_factory=Ownership)
    """The node's owners when the device was added (later changes: ``node.owner_changed``)."""


class DeviceUpdated(Event):
    """Only the fields that changed are set in ``changes``."""

    TYPE = "registry.device.updated"
    SUBJECT = "registry.device.updated"

    device_id: UUID
    node_id: UUID
    changes: dict[str, Any]


class DeviceRemoved(Event):
    """The device is gone, and with it its radios, interfaces and services."""

    TYPE = "registry.device.removed"
    SUBJECT = "registry.device.removed"

    device_id: UUID
    node_id: UUID
    type: str


class ServiceAdded(Event):
    """A service published in the directory (on a device, inside the community network)."""

    TYPE = "registry.service.added"
    SUBJECT = "registry.service.added"

    service_id: UUID
    device_id: UUID
    type: str
    name: str
    fields: dict[str, Any] = _fields()


class ServiceUpdated(Event):
    TYPE = "registry.service.updated"
    SUBJECT = "registry.service.updated"

    service_id: UUID
    changes: dict[str, Any]


class ServiceRemoved(Event):
    TYPE = "registry.service.removed"
    SUBJECT = "registry.service.removed"

    service_id: UUID
    device_id: UUID


ImportVerb = Literal["created", "updated"]


class ImportedChange(BaseModel):
    """One record a CNML import created or updated, with the fields it set."""

    model_config = ConfigDict(frozen=True)

    id: UUID
    external_id: int | None = None
    verb: ImportVerb
    changes: dict[str, Any]


class _Imported(Event):
    """Part ``part`` of ``parts`` of what one import did to one kind of record."""

    import_id: UUID
    part: int = 1
    parts: int = 1
    changes: list[ImportedChange]


class ZonesImported(_Imported):
    TYPE = "registry.zone.imported"
    SUBJECT = "registry.zone.imported"


class NodesImported(_Imported):
    TYPE = "registry.node.imported"
    SUBJECT = "registry.node.imported"


class DevicesImported(_Imported):
    TYPE = "registry.device.imported"
    SUBJECT = "registry.device.imported"


class RadiosImported(_Imported):
    TYPE = "registry.radio.imported"
    SUBJECT = "registry.radio.imported"


class InterfacesImported(_Imported):
    """Changes carry the interface's addresses (``ipv4``/``mask`` pairs) as a whole."""

    TYPE = "registry.interface.imported"
    SUBJECT = "registry.interface.imported"


class LinksImported(_Imported):
    TYPE = "registry.link.imported"
    SUBJECT = "registry.link.imported"


class ServicesImported(_Imported):
    TYPE = "registry.service.imported"
    SUBJECT = "registry.service.imported"


class CnmlImported(Event):
    """One CNML import that changed something: what it held and what it changed."""

    TYPE = "registry.cnml.imported"
    SUBJECT = "registry.cnml.imported"

    import_id: UUID
    level: Literal["zones", "nodes", "detail"]
    root_zone_ids: list[UUID]
    generated: str | None = None
    created: dict[str, int]
    updated: dict[str, int]
