"""Writing a zone's subtree as CNML, in the shape guifi.net's exporter writes, so that our
importer (and other CNML tools) read it back to the same records.

Beyond guifi.net's attributes each record carries our ``uuid`` (so that records guifi.net
never knew, with no guifi.net ``id``, come back as themselves), and the fields guifi.net
does not have: zone and node ``nick``, node ``owner`` (contact data: written only for
callers who may see it), a cloud device's hardware (``arch``, ``cores``, ``ram_mb``,
``disk_gb``), a service's ``host`` and ``port``. Other CNML readers ignore attributes they
do not know.

What an import read comes out again as it was read: ``updated`` only for a record changed
after the minute it was created (guifi.net writes none for the others), and the top zone's
``parent_id`` even when its parent zone is not in the registry.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from guificloud_registry.cnml.records import Level
from guificloud_registry.cnml.values import format_date, format_number, same_minute
from guificloud_registry.models import Address, Device, Interface, Link, Node, Radio, Service, Zone
from guificloud_registry.search import path_within

INDENT = "  "


def escape_attribute(value: str) -> str:
    return (
        value.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("\n", "&#10;")
        .replace("\r", "&#13;")
        .replace("\t", "&#9;")
    )


def escape_text(value: str) -> str:
    """Element text; a carriage return is written as a reference, else XML reads it as a
    line end and the description would not come back the same."""
    return (
        value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    )


def _render(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, datetime):
        return format_date(value)
    if isinstance(value, float):
        return format_number(value)
    if isinstance(value, list):
        return ",".join(value) if value else None
    return str(value)


def _open(tag: str, attrs: list[tuple[str, Any]], depth: int, *, empty: bool) -> str:
    parts = [f'{k}="{escape_attribute(r)}"' for k, v in attrs if (r := _render(v)) is not None]
    close = "/>" if empty else ">"
    return f"{INDENT * depth}<{tag} {' '.join(parts)}{close}"


def _element(
    tag: str, attrs: list[tuple[str, Any]], depth: int, description: str | None, children: list[str]
) -> list[str]:
    if description is None and not children:
        return [_open(tag, attrs, depth, empty=True)]
    head = _open(tag, attrs, depth, empty=False) + (escape_text(description) if description else "")
    if not children:
        return [f"{head}</{tag}>"]
    return [head, *children, f"{INDENT * depth}</{tag}>"]


@dataclass
class _Snapshot:
    """Every record of the subtree, loaded in a few queries before writing starts."""

    root: Zone
    root_parent_ext: int | None
    zones: dict[UUID | None, list[Zone]] = field(default_factory=lambda: defaultdict(list))
    nodes: dict[UUID, list[Node]] = field(default_factory=lambda: defaultdict(list))
    devices: dict[UUID, list[Device]] = field(default_factory=lambda: defaultdict(list))
    radios: dict[UUID, list[Radio]] = field(default_factory=lambda: defaultdict(list))
    interfaces: dict[UUID, list[Interface]] = field(default_factory=lambda: defaultdict(list))
    addresses: dict[UUID, list[Address]] = field(default_factory=lambda: defaultdict(list))
    links: dict[UUID, list[tuple[Link, str]]] = field(default_factory=lambda: defaultdict(list))
    services: dict[UUID, list[Service]] = field(default_factory=lambda: defaultdict(list))
    device_ext: dict[UUID, int | None] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    shows_contact: Callable[[Node], bool] = lambda _node: False
    """Whether a node's contact data (``owner``) is written: for whom may see it only."""


def _updated(record: Zone | Node | Device | Service) -> datetime | None:
    """``updated``, for a record changed after the minute it was created."""
    return None if same_minute(record.updated_at, record.created_at) else record.updated_at


async def load(session: AsyncSession, root: Zone, level: Level) -> _Snapshot:
    parent_ext = root.parent_external_id
    if root.parent_id is not None:
        parent_ext = await session.scalar(select(Zone.external_id).where(Zone.id == root.parent_id))
    snap = _Snapshot(root=root, root_parent_ext=parent_ext)
    in_tree = path_within(root.path)
    for zone in await session.scalars(select(Zone).where(in_tree).order_by(Zone.path)):
        if zone.id != root.id:
            snap.zones[zone.parent_id].append(zone)
    zone_ids = select(Zone.id).where(in_tree)
    node_ids = select(Node.id).where(Node.zone_id.in_(zone_ids))
    device_ids = select(Device.id).where(Device.node_id.in_(node_ids))
    snap.counts = {"nodes": 0, "devices": 0, "services": 0, "links": 0}
    if level == "zones":
        return snap
    order = (Node.created_at, Node.id)
    for node in await session.scalars(
        select(Node).where(Node.zone_id.in_(zone_ids)).order_by(*order)
    ):
        snap.nodes[node.zone_id].append(node)
        snap.counts["nodes"] += 1
    if level == "nodes":
        return snap
    for device in await session.scalars(
        select(Device).where(Device.id.in_(device_ids)).order_by(Device.created_at, Device.id)
    ):
        snap.devices[device.node_id].append(device)
        snap.device_ext[device.id] = device.external_id
        snap.counts["devices"] += 1
    for radio in await session.scalars(
        select(Radio).where(Radio.device_id.in_(device_ids)).order_by(Radio.ordinal)
    ):
        snap.radios[radio.device_id].append(radio)
    interface_ids = select(Interface.id).where(Interface.device_id.in_(device_ids))
    for interface in await session.scalars(
        select(Interface)
        .where(Interface.device_id.in_(device_ids))
        .order_by(Interface.external_id, Interface.id)
    ):
        snap.interfaces[interface.radio_id or interface.device_id].append(interface)
    for address in await session.scalars(
        select(Address).where(Address.interface_id.in_(interface_ids)).order_by(Address.ipv4)
    ):
        snap.addresses[address.interface_id].append(address)
    for link in await session.scalars(
        select(Link)
        .where(or_(Link.a_interface_id.in_(interface_ids), Link.b_interface_id.in_(interface_ids)))
        .order_by(Link.external_id, Link.id)
    ):
        if link.a_interface_id is not None:
            snap.links[link.a_interface_id].append((link, "b"))
        if link.b_interface_id is not None:
            snap.links[link.b_interface_id].append((link, "a"))
        snap.counts["links"] += 1
    for service in await session.scalars(
        select(Service).where(Service.device_id.in_(device_ids)).order_by(Service.created_at)
    ):
        snap.services[service.device_id].append(service)
        snap.counts["services"] += 1
    return snap


def write(snap: _Snapshot, level: Level, *, server_url: str) -> Iterator[str]:
    """The document, a zone at a time (so that a big export streams)."""
    yield '<?xml version="1.0" encoding="utf-8"?>\n'
    yield (
        _open(
            "cnml",
            [
                ("version", "0.1"),
                ("server_id", "guificloud"),
                ("server_url", server_url),
                ("generated", datetime.now(UTC)),
            ],
            0,
            empty=False,
        )
        + "\n"
    )
    yield _open("class", [("network_description", level), ("mapping", "y")], 1, empty=True) + "\n"
    yield _open("network", list(snap.counts.items()), 1, empty=False) + "\n"
    yield from _zone(snap, snap.root, snap.root_parent_ext, 2)
    yield f"{INDENT}</network>\n</cnml>\n"


def _zone(snap: _Snapshot, zone: Zone, parent_ext: int | None, depth: int) -> Iterator[str]:
    corners = (zone.min_lon, zone.min_lat, zone.max_lon, zone.max_lat)
    box = ",".join(format_number(c) for c in corners if c is not None) or None
    attrs = [
        ("id", zone.external_id),
        ("uuid", zone.id),
        ("parent_id", parent_ext),
        ("title", zone.name),
        ("nick", zone.nick),
        ("time_zone", zone.time_zone),
        ("ntp_servers", zone.ntp_servers),
        ("dns_servers", zone.dns_servers),
        ("graph_server", zone.graph_server),
        ("created", zone.created_at),
        ("updated", _updated(zone)),
        ("box", box),
    ]
    nodes = [line for node in snap.nodes.get(zone.id, []) for line in _node(snap, node, depth + 1)]
    children = snap.zones.get(zone.id, [])
    if not nodes and not children:
        yield "\n".join(_element("zone", attrs, depth, zone.description, [])) + "\n"
        return
    description = escape_text(zone.description) if zone.description else ""
    yield _open("zone", attrs, depth, empty=False) + description + "\n"
    if nodes:
        yield "\n".join(nodes) + "\n"
    for child in children:
        yield from _zone(snap, child, zone.external_id, depth + 1)
    yield f"{INDENT * depth}</zone>\n"


def _node(snap: _Snapshot, node: Node, depth: int) -> list[str]:
    attrs = [
        ("id", node.external_id),
        ("uuid", node.id),
        ("title", node.name),
        ("nick", node.nick),
        ("lat", node.latitude),
        ("lon", node.longitude),
        ("antenna_elevation", node.elevation),
        ("status", node.status),
        ("owner", node.owner if snap.shows_contact(node) else None),
        ("graph_server", node.graph_server),
        ("created", node.created_at),
        ("updated", _updated(node)),
    ]
    children = [
        line
        for device in snap.devices.get(node.id, [])
        for line in _device(snap, node, device, depth + 1)
    ]
    return _element("node", attrs, depth, node.description, children)


def _device(snap: _Snapshot, node: Node, device: Device, depth: int) -> list[str]:
    hardware = device.hardware or {}
    attrs = [
        ("id", device.external_id),
        ("uuid", device.id),
        ("title", device.name),
        ("type", device.type),
        ("status", device.status),
        ("mainipv4", device.main_ipv4),
        ("name", device.model),
        ("firmware", device.firmware),
        ("snmp_index", device.snmp_index),
        ("graph_server", device.graph_server),
        ("created", device.created_at),
        ("updated", _updated(device)),
        *((k, hardware.get(k)) for k in ("arch", "cores", "ram_mb", "disk_gb")),
    ]
    children: list[str] = []
    for radio in snap.radios.get(device.id, []):
        children += _element(
            "radio",
            [
                ("id", radio.ordinal),
                ("device_id", device.external_id),
                ("ssid", radio.ssid),
                ("mode", radio.mode),
                ("protocol", radio.protocol),
                ("channel", radio.channel),
                ("antenna_angle", radio.antenna_angle),
                ("antenna_gain", radio.antenna_gain),
                ("antenna_azimuth", radio.antenna_azimuth),
                ("clients_accepted", radio.clients_accepted),
                ("snmp_name", radio.snmp_name),
                ("snmp_index", radio.snmp_index),
            ],
            depth + 1,
            radio.description,
            _interfaces(snap, snap.interfaces.get(radio.id, []), depth + 2),
        )
    children += _interfaces(snap, snap.interfaces.get(device.id, []), depth + 1)
    for service in snap.services.get(device.id, []):
        children += _element(
            "service",
            [
                ("id", service.external_id),
                ("uuid", service.id),
                ("title", service.name),
                ("type", service.type),
                ("status", service.status),
                ("host", service.host),
                ("port", service.port),
                ("created", service.created_at),
                ("updated", _updated(service)),
            ],
            depth + 1,
            service.description,
            [],
        )
    return _element("device", attrs, depth, device.description, children)


def _interfaces(snap: _Snapshot, interfaces: list[Interface], depth: int) -> list[str]:
    """One ``<interface>`` per address (as guifi.net writes them); links under the first."""
    lines: list[str] = []
    for interface in interfaces:
        addresses: list[Address | None] = [*snap.addresses.get(interface.id, [])] or [None]
        for index, address in enumerate(addresses):
            links = snap.links.get(interface.id, []) if index == 0 else []
            lines += _element(
                "interface",
                [
                    ("id", interface.external_id),
                    ("type", interface.type),
                    ("mac", interface.mac),
                    ("ipv4", address.ipv4 if address else None),
                    ("mask", address.mask if address else None),
                ],
                depth,
                None,
                [_link(link, other, depth + 1) for link, other in links],
            )
    return lines


def _link(link: Link, other: str, depth: int) -> str:
    return _open(
        "link",
        [
            ("id", link.external_id),
            ("linked_device_id", getattr(link, f"{other}_device_ext")),
            ("linked_node_id", getattr(link, f"{other}_node_ext")),
            ("linked_interface_id", getattr(link, f"{other}_interface_ext")),
            ("link_type", link.type),
            ("link_status", link.status),
        ],
        depth,
        empty=True,
    )
