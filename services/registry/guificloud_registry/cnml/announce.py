"""What an import publishes: its changes grouped per kind of record, in events small enough
for the bus (NATS refuses messages above 1 MB), plus one summary."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any
from uuid import UUID

from guificloud.db.uow import UnitOfWork
from guificloud.events.registry import (
    CnmlImported,
    DevicesImported,
    ImportedChange,
    InterfacesImported,
    LinksImported,
    NodesImported,
    RadiosImported,
    ServicesImported,
    ZonesImported,
)

EVENT_BUDGET_BYTES = 256 * 1024
EVENT_MAX_CHANGES = 1000

FAMILY = {
    "zones": ZonesImported,
    "nodes": NodesImported,
    "devices": DevicesImported,
    "radios": RadiosImported,
    "interfaces": InterfacesImported,
    "links": LinksImported,
    "services": ServicesImported,
}


def _size(change: ImportedChange) -> int:
    """A cheap estimate of the change's JSON size: fields are short but for descriptions
    (the budget leaves four times the room for names at their longest)."""
    description = change.changes.get("description")
    return 160 + 64 * len(change.changes) + (len(description) if description else 0)


def chunks(changes: Sequence[ImportedChange]) -> Iterator[list[ImportedChange]]:
    current: list[ImportedChange] = []
    size = 0
    for change in changes:
        cost = _size(change)
        if current and (size + cost > EVENT_BUDGET_BYTES or len(current) >= EVENT_MAX_CHANGES):
            yield current
            current, size = [], 0
        current.append(change)
        size += cost
    if current:
        yield current


def announce(
    uow: UnitOfWork,
    import_id: UUID,
    changes: dict[str, list[ImportedChange]],
    summary: dict[str, Any],
) -> int:
    """Emit the import's events; none when nothing changed. Returns how many."""
    emitted = 0
    for kind, items in changes.items():
        parts = list(chunks(items))
        for number, part in enumerate(parts, start=1):
            uow.emit(FAMILY[kind](import_id=import_id, part=number, parts=len(parts), changes=part))
            emitted += 1
    if emitted:
        uow.emit(CnmlImported(import_id=import_id, **summary))
        emitted += 1
    return emitted
