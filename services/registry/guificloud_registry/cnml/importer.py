"""Bringing a parsed CNML document into the registry: one transaction, idempotent.

Records are found again by our uuid (which our exports carry) or else by guifi.net id, and
only what differs is written (COPY for new rows, batched updates for changed ones) and
published; a second import of the same file writes and publishes nothing. An import creates
and updates, never deletes: an export that no longer lists a record is not proof that
guifi.net dropped it (a ``nodes`` export lists no devices at all).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncSession

from guificloud.db.uow import UnitOfWork
from guificloud.logging import get_logger
from guificloud_registry.cnml.announce import announce
from guificloud_registry.cnml.equipment import import_interfaces, import_links, import_radios
from guificloud_registry.cnml.plan import Plan, Tally, flush, stored_rows, values_of
from guificloud_registry.cnml.records import Document, Key, Record
from guificloud_registry.cnml.tree import import_zones
from guificloud_registry.commands.zones import lock_tree
from guificloud_registry.models import Device, Interface, Link, Node, Radio, Service, Zone

log = get_logger(__name__)

KINDS = ("zones", "nodes", "devices", "radios", "interfaces", "links", "services")


@dataclass
class ImportResult:
    import_id: UUID
    level: str
    generated: str | None
    in_file: dict[str, int]
    tallies: dict[str, Tally]
    root_zone_ids: list[UUID]
    events: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "import_id": str(self.import_id),
            "level": self.level,
            "generated": self.generated,
            "root_zone_ids": [str(z) for z in self.root_zone_ids],
            "events": self.events,
            "records": {
                kind: {"in_file": self.in_file[kind], **vars(self.tallies[kind])} for kind in KINDS
            },
        }


async def import_document(uow: UnitOfWork, doc: Document) -> ImportResult:
    """Write ``doc`` into the registry and emit its events; the caller commits."""
    session = uow.session
    await lock_tree(uow)
    plans = {
        "zones": Plan(Zone.__table__),  # type: ignore[arg-type]
        "nodes": Plan(Node.__table__),  # type: ignore[arg-type]
        "devices": Plan(Device.__table__),  # type: ignore[arg-type]
        "radios": Plan(Radio.__table__, versioned=False),  # type: ignore[arg-type]
        "interfaces": Plan(Interface.__table__, versioned=False),  # type: ignore[arg-type]
        "links": Plan(Link.__table__, versioned=False),  # type: ignore[arg-type]
        "services": Plan(Service.__table__),  # type: ignore[arg-type]
    }
    zones, roots = await import_zones(session, doc.zones, plans["zones"])
    await flush(session, plans["zones"])
    nodes = await children(session, Node, doc.nodes, ("zone", "zone_id"), zones, plans["nodes"])
    await flush(session, plans["nodes"])
    devices = await children(
        session, Device, doc.devices, ("node", "node_id"), nodes, plans["devices"]
    )
    await flush(session, plans["devices"])
    radios = await import_radios(session, doc, devices, plans["radios"])
    await flush(session, plans["radios"])
    await import_interfaces(session, doc, devices, radios, plans["interfaces"])
    await import_links(session, doc, plans["links"])
    await children(
        session, Service, doc.services, ("device", "device_id"), devices, plans["services"]
    )
    await flush(session, plans["services"])

    import_id = uuid4()
    changed = {kind: plan.changes for kind, plan in plans.items() if plan.changes}
    summary = {
        "level": doc.level,
        "root_zone_ids": roots,
        "generated": doc.generated,
        "created": {k: p.tally.created for k, p in plans.items() if p.tally.created},
        "updated": {k: p.tally.updated for k, p in plans.items() if p.tally.updated},
    }
    events = announce(uow, import_id, changed, summary)
    result = ImportResult(
        import_id=import_id,
        level=doc.level,
        generated=doc.generated,
        in_file=doc.counts(),
        tallies={kind: plan.tally for kind, plan in plans.items()},
        root_zone_ids=roots,
        events=events,
    )
    log.info(
        "cnml.imported",
        import_id=str(import_id),
        level=doc.level,
        events=events,
        **{f"{k}_created": p.tally.created for k, p in plans.items() if p.tally.created},
        **{f"{k}_updated": p.tally.updated for k, p in plans.items() if p.tally.updated},
    )
    return result


# --- nodes, devices, services: records under a parent record ------------------------------
async def children(
    session: AsyncSession,
    model: Any,
    records: Sequence[Record],
    parent: tuple[str, str],
    parents: dict[Key, UUID],
    plan: Plan,
) -> dict[Key, UUID]:
    """``parent``: the record's attribute naming its parent, and the column it fills."""
    what = model.__name__.lower()
    stored = await stored_rows(session, model, records)
    attribute, column = parent
    ids: dict[Key, UUID] = {}
    for record in records:
        row = stored.find(record, what)
        values = {**values_of(record), column: parents[getattr(record, attribute)]}
        if row is None:
            row_id = record.uuid or uuid4()
            plan.create(row_id, values, record.ext)
        else:
            row_id = row["id"]
            plan.reconcile(row, values, record.ext)
        ids[record.key] = row_id
    return ids
