"""What the importer reads from a CNML file, compared with what it reads from another.

Both files go through the importer's own parser, so the comparison covers exactly the
attributes it reads and the values it makes of them (``43.200000`` is ``43.2``, an inverted
box is no box), whatever attributes are added to it later: every field of every record is
compared, generically. Records are matched by guifi.net id (a radio by its device's id and
number), since an export adds our uuids; references to other records (a zone's parent, a
node's zone...) are compared as the guifi.net ids they name.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from guificloud_registry.cnml.parse import parse_bytes
from guificloud_registry.cnml.records import Document, Key

SKIPPED = {"line", "uuid"}
"""Where a record is in its file, and our uuid (which only exports carry)."""


def _names(doc: Document) -> dict[Key, Any]:
    """Each record's key (a uuid in our exports) → its guifi.net id."""
    names: dict[Key, Any] = {}
    for records in (doc.zones, doc.nodes, doc.devices, doc.services):
        for record in records:
            names[record.key] = record.ext
    return names


def _records(doc: Document) -> dict[tuple[str, Any], Any]:
    names = _names(doc)
    found: dict[tuple[str, Any], Any] = {}
    for kind in ("zones", "nodes", "devices", "services"):
        for record in getattr(doc, kind):
            found[(kind, record.ext)] = record
    for radio in doc.radios:
        found[("radios", (names[radio.device], radio.ordinal))] = radio
    for ext, interface in doc.interfaces.items():
        found[("interfaces", ext)] = interface
    for ext, link in doc.links.items():
        found[("links", ext)] = link
    return found


def _value(value: Any, names: dict[Key, Any]) -> Any:
    """A field's value with references to records made guifi.net ids, order-free lists."""
    if isinstance(value, tuple) and len(value) == 2 and value[0] in ("u", "e"):
        return ("guifi id", names.get(value, value[1] if value[0] == "e" else value))
    if isinstance(value, list):
        return sorted(map(repr, value))
    return value


def _fields(record: Any, names: dict[Key, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for f in dataclasses.fields(record):
        if f.name in SKIPPED:
            continue
        value = getattr(record, f.name)
        if isinstance(value, dict):
            values.update({f"{f.name}.{k}": _value(v, names) for k, v in value.items()})
        else:
            values[f.name] = _value(value, names)
    return values


def differences(original: bytes, exported: bytes) -> list[str]:
    """Every value the importer reads from ``original`` that it does not read the same
    from ``exported``, as ``<kind> <guifi id> <field>: <original> != <exported>``."""
    before, after = parse_bytes(original), parse_bytes(exported)
    assert before.level == after.level, (before.level, after.level)
    names_before, names_after = _names(before), _names(after)
    found_after = _records(after)
    problems: list[str] = []
    for (kind, ext), record in _records(before).items():
        again = found_after.get((kind, ext))
        if again is None:
            problems.append(f"{kind} {ext}: missing from the export")
            continue
        mine, theirs = _fields(record, names_before), _fields(again, names_after)
        for name in sorted(mine.keys() | theirs.keys()):
            if mine.get(name) != theirs.get(name):
                problems.append(f"{kind} {ext} {name}: {mine.get(name)!r} != {theirs.get(name)!r}")
    return problems
