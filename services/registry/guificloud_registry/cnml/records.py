"""What a CNML file says, as plain records keyed by guifi.net ids (or our own uuids, which
our exports add), in document order. ``fields`` hold registry column names and values."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal
from uuid import UUID

Level = Literal["zones", "nodes", "detail"]
LEVELS: tuple[Level, ...] = ("zones", "nodes", "detail")

# A record's identity within a file: ("u", uuid) when it carries ours, else ("e", guifi id).
Key = tuple[str, object]


def key_of(ext: int | None, uuid: UUID | None) -> Key:
    return ("u", uuid) if uuid is not None else ("e", ext)


@dataclass
class Record:
    line: int
    ext: int | None
    uuid: UUID | None
    fields: dict[str, Any]

    @property
    def key(self) -> Key:
        return key_of(self.ext, self.uuid)


@dataclass
class ZoneRecord(Record):
    parent: Key | None = None
    """The enclosing zone in the file, if any."""
    declared_parent_ext: int | None = None
    """``parent_id`` as written: for a top zone, where it hangs in the registry."""


@dataclass
class NodeRecord(Record):
    zone: Key = ("e", 0)


@dataclass
class DeviceRecord(Record):
    node: Key = ("e", 0)


@dataclass
class RadioRecord:
    line: int
    device: Key
    ordinal: int
    fields: dict[str, Any]


@dataclass
class InterfaceRecord:
    line: int
    ext: int
    device: Key
    radio_ordinal: int | None
    fields: dict[str, Any]
    addresses: dict[str, str | None] = field(default_factory=dict)


# One end of a link: guifi.net ids of its node, device and interface.
End = tuple[int | None, int, int | None]


@dataclass
class LinkRecord:
    line: int
    ext: int
    type: str | None
    status: str | None
    ends: list[End] = field(default_factory=list)


@dataclass
class ServiceRecord(Record):
    device: Key = ("e", 0)


@dataclass
class Document:
    level: Level
    generated: str | None = None
    zones: list[ZoneRecord] = field(default_factory=list)
    nodes: list[NodeRecord] = field(default_factory=list)
    devices: list[DeviceRecord] = field(default_factory=list)
    radios: list[RadioRecord] = field(default_factory=list)
    interfaces: dict[int, InterfaceRecord] = field(default_factory=dict)
    links: dict[int, LinkRecord] = field(default_factory=dict)
    services: list[ServiceRecord] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "zones": len(self.zones),
            "nodes": len(self.nodes),
            "devices": len(self.devices),
            "radios": len(self.radios),
            "interfaces": len(self.interfaces),
            "links": len(self.links),
            "services": len(self.services),
        }
