"""Reading CNML as it streams in (expat), refusing a malformed file with its line and reason.

Fed chunk by chunk, so that an upload is never held whole in memory; the records it yields
are small. Document type declarations are refused (CNML has none), which also shuts the door
on entity expansion. Quirks of real exports handled here: the same interface listed under its
``<radio>`` and again directly under its ``<device>`` (one interface; several addresses), and
each link listed at both of its ends (one link).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID
from xml.parsers import expat

from pydantic import ValidationError

from guificloud.events.registry import NODE_STATUSES, Hardware
from guificloud_registry.cnml import values as v
from guificloud_registry.cnml.records import (
    LEVELS,
    DeviceRecord,
    Document,
    InterfaceRecord,
    Key,
    LinkRecord,
    NodeRecord,
    RadioRecord,
    Record,
    ServiceRecord,
    ZoneRecord,
    key_of,
)
from guificloud_registry.cnml.values import ValueProblem
from guificloud_registry.schemas.common import clean_name

Attrs = dict[str, str]


class CnmlError(ValueError):
    """The file is not CNML we can import: nothing of it is imported."""

    def __init__(self, line: int | None, reason: str) -> None:
        super().__init__(f"line {line}: {reason}" if line else reason)
        self.line = line
        self.reason = reason


class _Frame:
    """An open element: its tag, what it became, and its own text."""

    __slots__ = ("tag", "record", "text", "line")

    def __init__(self, tag: str, record: Any, line: int) -> None:
        self.tag = tag
        self.record = record
        self.text: list[str] = []
        self.line = line


class CnmlParser:
    def __init__(self) -> None:
        self._parser = expat.ParserCreate()
        self._parser.buffer_text = True
        self._parser.StartElementHandler = self._start
        self._parser.EndElementHandler = self._end
        self._parser.CharacterDataHandler = self._text
        self._parser.StartDoctypeDeclHandler = self._doctype
        self._parser.EntityDeclHandler = self._doctype
        self._stack: list[_Frame] = []
        self._level: str | None = None
        self._generated: str | None = None
        self._seen_root = False
        self._fed = 0
        self.doc = Document(level="detail")
        self._zone_keys: set[Key] = set()
        self._node_keys: set[Key] = set()
        self._device_keys: set[Key] = set()
        self._service_keys: set[Key] = set()
        self._radio_keys: set[tuple[Key, int]] = set()
        self._handlers: dict[str, Callable[[Attrs, int], Any]] = {
            "cnml": self._cnml,
            "class": self._class,
            "network": lambda _a, _l: None,
            "zone": self._zone,
            "node": self._node,
            "device": self._device,
            "radio": self._radio,
            "interface": self._interface,
            "link": self._link,
            "service": self._service,
        }

    # --- feeding ------------------------------------------------------------------------
    def feed(self, chunk: bytes) -> None:
        self._fed += len(chunk)
        self._parse(chunk, final=False)

    def close(self) -> Document:
        if not self._fed:
            raise CnmlError(None, "the file is empty")
        self._parse(b"", final=True)
        if not self._seen_root:
            raise CnmlError(None, "the file is empty: no <cnml> element")
        if self._level is None:
            raise CnmlError(
                None, "no <class network_description=...>: not a zone export of guifi.net"
            )
        self.doc.level = self._level  # type: ignore[assignment]
        self.doc.generated = self._generated
        return self.doc

    def _parse(self, data: bytes, *, final: bool) -> None:
        try:
            self._parser.Parse(data, final)
        except expat.ExpatError as exc:
            raise CnmlError(
                exc.lineno, f"not well-formed XML: {expat.ErrorString(exc.code)}"
            ) from exc
        except ValueProblem as exc:
            raise CnmlError(self._parser.CurrentLineNumber, str(exc)) from exc

    # --- expat callbacks ----------------------------------------------------------------
    def _doctype(self, *_args: object) -> None:
        raise CnmlError(self._parser.CurrentLineNumber, "document type declarations are refused")

    def _start(self, tag: str, attrs: Attrs) -> None:
        line = self._parser.CurrentLineNumber
        if not self._stack and tag != "cnml":
            raise CnmlError(line, f"the root element is <{tag}>, not <cnml>")
        handler = self._handlers.get(tag)
        ignored = self._stack and self._stack[-1].tag == "#ignored"
        if handler is None or ignored:
            self._stack.append(_Frame("#ignored", None, line))
            return
        try:
            record = handler(attrs, line)
        except ValueProblem as exc:
            raise CnmlError(line, str(exc)) from exc
        self._stack.append(_Frame(tag, record, line))

    def _end(self, _tag: str) -> None:
        frame = self._stack.pop()
        text = "".join(frame.text)
        if frame.tag in {"zone", "node", "device", "radio", "service"} and frame.record is not None:
            frame.record.fields["description"] = v.description(text)

    def _text(self, data: str) -> None:
        if self._stack:
            self._stack[-1].text.append(data)

    # --- elements -----------------------------------------------------------------------
    def _parent(self, line: int, tag: str, *allowed: str) -> _Frame:
        parent = self._stack[-1] if self._stack else None
        if parent is None or parent.tag not in allowed:
            where = f"<{parent.tag}>" if parent else "the top"
            raise CnmlError(
                line, f"<{tag}> inside {where}; it belongs in <{'> or <'.join(allowed)}>"
            )
        return parent

    def _cnml(self, attrs: Attrs, line: int) -> None:
        if self._seen_root:
            raise CnmlError(line, "a second <cnml> element")
        self._seen_root = True
        self._generated = attrs.get("generated")

    def _class(self, attrs: Attrs, line: int) -> None:
        level = attrs.get("network_description")
        if level is None and "node_description" in attrs:
            raise CnmlError(line, "a single-node export has no zone to put it in: export a zone")
        if level not in LEVELS:
            raise CnmlError(
                line, f"network_description {level!r} is not one of {', '.join(LEVELS)}"
            )
        self._level = level

    def _identity(self, attrs: Attrs, what: str) -> tuple[int | None, UUID | None]:
        raw_uuid = attrs.get("uuid")
        uuid = None
        if raw_uuid:
            try:
                uuid = UUID(raw_uuid)
            except ValueError:
                raise ValueProblem(f"{what} uuid {raw_uuid!r} is not a UUID") from None
        ext = v.parse_id(attrs.get("id"), what) if (attrs.get("id") or uuid is None) else None
        return ext, uuid

    def _dates(self, attrs: Attrs) -> dict[str, Any]:
        """``updated`` is given once a record changed; one within the minute of ``created``
        says no more than none (the registry then keeps ``updated_at`` = ``created_at``)."""
        created = v.parse_date(attrs["created"]) if attrs.get("created") else None
        updated = v.parse_date(attrs["updated"]) if attrs.get("updated") else None
        if v.same_minute(updated, created):
            updated = None
        return {"created_at": created, "updated_at": updated}

    def _zone(self, attrs: Attrs, line: int) -> ZoneRecord:
        parent = self._parent(line, "zone", "network", "zone")
        ext, uuid = self._identity(attrs, "zone")
        declared = v.parse_reference(attrs.get("parent_id"))
        enclosing: Key | None = None
        if parent.tag == "zone":
            enclosing = parent.record.key
            if declared is not None and parent.record.ext not in (None, declared):
                inside = parent.record.ext
                raise CnmlError(
                    line, f"zone {ext} says parent_id={declared} but sits inside zone {inside}"
                )
        box = v.parse_box(attrs.get("box"))
        fields = {
            "name": _title(attrs, "zone", 200),
            "nick": v.text_or_none(attrs.get("nick"), "zone nick", 40),
            "time_zone": v.text_or_none(attrs.get("time_zone"), "zone time_zone", 32),
            "min_lon": box[0] if box else None,
            "min_lat": box[1] if box else None,
            "max_lon": box[2] if box else None,
            "max_lat": box[3] if box else None,
            "dns_servers": v.parse_servers(attrs.get("dns_servers")),
            "ntp_servers": v.parse_servers(attrs.get("ntp_servers")),
            "graph_server": v.parse_reference(attrs.get("graph_server")),
            **self._dates(attrs),
        }
        record = ZoneRecord(line, ext, uuid, fields, parent=enclosing, declared_parent_ext=declared)
        self._unique(self._zone_keys, record, line, "zone")
        self.doc.zones.append(record)
        return record

    def _node(self, attrs: Attrs, line: int) -> NodeRecord:
        parent = self._parent(line, "node", "zone")
        ext, uuid = self._identity(attrs, "node")
        status = attrs.get("status", "")
        if status not in NODE_STATUSES:
            raise ValueProblem(f"node status {status!r} is not one of {', '.join(NODE_STATUSES)}")
        elevation = attrs.get("antenna_elevation")
        fields = {
            "name": _title(attrs, "node", 200),
            "nick": v.text_or_none(attrs.get("nick"), "node nick", 40),
            "latitude": v.parse_coordinate(attrs.get("lat"), "node lat", 90),
            "longitude": v.parse_coordinate(attrs.get("lon"), "node lon", 180),
            "elevation": (
                v.parse_int(elevation, "antenna_elevation", minimum=-500, maximum=10_000)
                if elevation
                else None
            ),
            "status": status,
            "owner": v.text_or_none(attrs.get("owner"), "node owner", 200),
            "graph_server": v.parse_reference(attrs.get("graph_server")),
            **self._dates(attrs),
        }
        record = NodeRecord(line, ext, uuid, fields, zone=parent.record.key)
        self._unique(self._node_keys, record, line, "node")
        self.doc.nodes.append(record)
        return record

    def _device(self, attrs: Attrs, line: int) -> DeviceRecord:
        parent = self._parent(line, "device", "node")
        ext, uuid = self._identity(attrs, "device")
        kind = v.text_or_none(attrs.get("type"), "device type", 32)
        if kind is None:
            raise ValueProblem(f"device {ext or uuid} has no type")
        fields = {
            "name": _title(attrs, "device", 200),
            "type": kind,
            "status": v.text_or_none(attrs.get("status"), "device status", 16) or "Working",
            "main_ipv4": v.text_or_none(attrs.get("mainipv4"), "device mainipv4", 45),
            "model": v.text_or_none(attrs.get("name"), "device name (model)", 200),
            "firmware": v.text_or_none(attrs.get("firmware"), "device firmware", 100),
            "snmp_index": v.text_or_none(attrs.get("snmp_index"), "device snmp_index", 32),
            "graph_server": v.parse_reference(attrs.get("graph_server")),
            "hardware": _hardware(attrs),
            **self._dates(attrs),
        }
        record = DeviceRecord(line, ext, uuid, fields, node=parent.record.key)
        self._unique(self._device_keys, record, line, "device")
        self.doc.devices.append(record)
        return record

    def _radio(self, attrs: Attrs, line: int) -> RadioRecord:
        parent = self._parent(line, "radio", "device")
        device: DeviceRecord = parent.record
        ordinal = v.parse_int(attrs.get("id", ""), "radio id", minimum=0, maximum=1000)
        said = attrs.get("device_id")
        if said and device.ext is not None and v.parse_reference(said) != device.ext:
            raise ValueProblem(f"radio says device_id={said} but sits inside device {device.ext}")
        if (device.key, ordinal) in self._radio_keys:
            raise ValueProblem(f"radio {ordinal} of device {device.ext} is listed twice")
        self._radio_keys.add((device.key, ordinal))
        fields = {
            "ssid": v.text_or_none(attrs.get("ssid"), "radio ssid", 64),
            "mode": v.text_or_none(attrs.get("mode"), "radio mode", 32),
            "protocol": v.text_or_none(attrs.get("protocol"), "radio protocol", 32),
            "channel": v.text_or_none(attrs.get("channel"), "radio channel", 16),
            "antenna_angle": _optional_int(attrs, "antenna_angle"),
            "antenna_gain": _optional_int(attrs, "antenna_gain"),
            "antenna_azimuth": _optional_int(attrs, "antenna_azimuth"),
            "clients_accepted": v.parse_flag(attrs.get("clients_accepted")),
            "snmp_name": v.text_or_none(attrs.get("snmp_name"), "radio snmp_name", 64),
            "snmp_index": v.text_or_none(attrs.get("snmp_index"), "radio snmp_index", 32),
        }
        record = RadioRecord(line, device.key, ordinal, fields)
        self.doc.radios.append(record)
        return record

    def _interface(self, attrs: Attrs, line: int) -> InterfaceRecord:
        parent = self._parent(line, "interface", "radio", "device")
        if parent.tag == "radio":
            device_key, radio = parent.record.device, parent.record.ordinal
        else:
            device_key, radio = parent.record.key, None
        ext = v.parse_id(attrs.get("id"), "interface")
        fields = {
            "type": v.text_or_none(attrs.get("type"), "interface type", 100),
            "mac": v.text_or_none(attrs.get("mac"), "interface mac", 17),
        }
        record = self.doc.interfaces.get(ext)
        if record is None:
            record = InterfaceRecord(line, ext, device_key, radio, fields)
            self.doc.interfaces[ext] = record
        elif record.device != device_key:
            raise ValueProblem(f"interface {ext} is listed under two devices")
        elif record.fields != fields:
            raise ValueProblem(f"interface {ext} is listed twice with different type or mac")
        elif radio is not None:
            if record.radio_ordinal not in (None, radio):
                raise ValueProblem(f"interface {ext} is listed under two radios")
            record.radio_ordinal = radio
        ipv4 = v.text_or_none(attrs.get("ipv4"), "interface ipv4", 45)
        if ipv4 is not None:
            record.addresses[ipv4] = v.text_or_none(attrs.get("mask"), "interface mask", 45)
        return record

    def _link(self, attrs: Attrs, line: int) -> LinkRecord:
        parent = self._parent(line, "link", "interface")
        interface: InterfaceRecord = parent.record
        at = -2 if self._stack[-2].tag == "device" else -3
        device: DeviceRecord = self._stack[at].record
        node: NodeRecord = self._stack[at - 1].record
        if device.ext is None:
            raise ValueProblem("a link on a device without a guifi.net id")
        ext = v.parse_id(attrs.get("id"), "link")
        here = (node.ext, device.ext, interface.ext)
        there = (
            v.parse_reference(attrs.get("linked_node_id")),
            v.parse_id(attrs.get("linked_device_id"), f"link {ext} linked device"),
            v.parse_reference(attrs.get("linked_interface_id")),
        )
        record = self.doc.links.get(ext)
        if record is None:
            record = LinkRecord(
                line,
                ext,
                v.text_or_none(attrs.get("link_type"), "link_type", 32),
                v.text_or_none(attrs.get("link_status"), "link_status", 16),
            )
            self.doc.links[ext] = record
        for end in (here, there):
            if end not in record.ends:
                record.ends.append(end)
        if len(record.ends) > 2:
            raise ValueProblem(f"link {ext} joins more than two interfaces")
        return record

    def _service(self, attrs: Attrs, line: int) -> ServiceRecord:
        parent = self._parent(line, "service", "device")
        ext, uuid = self._identity(attrs, "service")
        kind = v.text_or_none(attrs.get("type"), "service type", 64)
        if kind is None:
            raise ValueProblem(f"service {ext or uuid} has no type")
        port = _optional_int(attrs, "port")
        if port is not None and not 1 <= port <= 65_535:
            raise ValueProblem(f"service port {port} is outside 1-65535")
        fields = {
            "name": _title(attrs, "service", 200),
            "type": kind,
            "status": v.text_or_none(attrs.get("status"), "service status", 16) or "Working",
            "host": v.text_or_none(attrs.get("host"), "service host", 255),
            "port": port,
            **self._dates(attrs),
        }
        record = ServiceRecord(line, ext, uuid, fields, device=parent.record.key)
        self._unique(self._service_keys, record, line, "service")
        self.doc.services.append(record)
        return record

    @staticmethod
    def _unique(seen: set[Key], record: Record, line: int, what: str) -> None:
        """Neither our uuid nor a guifi.net id may name two records of the file."""
        keys = {record.key} | ({("e", record.ext)} if record.ext is not None else set())
        for key in keys:
            if key in seen:
                raise CnmlError(line, f"{what} {key[1]} is listed twice")
        seen.update(keys)


def _title(attrs: Attrs, what: str, max_length: int) -> str:
    """A record's name, by the same rule as the API's (:func:`clean_name`)."""
    try:
        title = clean_name(attrs.get("title") or "")
    except ValueError:
        raise ValueProblem(f"{what} {attrs.get('id') or attrs.get('uuid')} has no title") from None
    if len(title) > max_length:
        raise ValueProblem(f"{what} title is longer than {max_length} characters")
    return title


def _optional_int(attrs: Attrs, name: str) -> int | None:
    raw = attrs.get(name)
    return v.parse_int(raw, name) if raw is not None and raw.strip() else None


HARDWARE = ("arch", "cores", "ram_mb", "disk_gb")


def _hardware(attrs: Attrs) -> dict[str, Any] | None:
    """A cloud box's hardware, which our own exports add to ``<device>``."""
    given = {k: attrs[k] for k in HARDWARE if k in attrs}
    if not given:
        return None
    try:
        hardware: dict[str, Any] = Hardware.model_validate(given).model_dump()
    except ValidationError as exc:
        problems = "; ".join(f"{e['loc'][0]}: {e['msg']}" for e in exc.errors())
        raise ValueProblem(f"device hardware: {problems}") from None
    return hardware


def parse_bytes(data: bytes, chunk_size: int = 1 << 16) -> Document:
    """Parse a whole file held in memory (tests, the CLI's checks)."""
    parser = CnmlParser()
    for start in range(0, len(data), chunk_size):
        parser.feed(data[start : start + chunk_size])
    return parser.close()


__all__ = ["CnmlError", "CnmlParser", "key_of", "parse_bytes"]
