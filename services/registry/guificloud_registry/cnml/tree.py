"""The zone tree of an import: zones found again or created, parents resolved (in the file,
else the registry's zone with the declared guifi.net parent id), moves applied to whole
subtrees' materialized paths, and no zone ever inside itself."""

from __future__ import annotations

from uuid import UUID, uuid4

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from guificloud_registry.cnml.bulk import among
from guificloud_registry.cnml.parse import CnmlError
from guificloud_registry.cnml.plan import Plan, stored_rows, values_of
from guificloud_registry.cnml.records import Key, ZoneRecord
from guificloud_registry.models import Zone
from guificloud_registry.search import path_within


async def import_zones(
    session: AsyncSession, records: list[ZoneRecord], plan: Plan
) -> tuple[dict[Key, UUID], list[UUID]]:
    stored = await stored_rows(session, Zone, records)
    declared = {r.declared_parent_ext for r in records if r.parent is None}
    declared.discard(None)
    outside = {
        row.external_id: row
        for row in await session.execute(
            select(Zone.id, Zone.external_id, Zone.path).where(among(Zone.external_id, declared))
        )
    }
    ids: dict[Key, UUID] = {}
    paths: dict[UUID, str] = {}
    moves: list[tuple[str, str]] = []
    roots: list[UUID] = []

    def current(path: str) -> str:
        """Where a stored path is now, after the moves this import already made."""
        for old, new in moves:
            if path.startswith(old):
                path = new + path[len(old) :]
        return path

    for record in records:  # document order: a parent before its children
        row = stored.find(record, "zone")
        zone_id = row["id"] if row is not None else (record.uuid or uuid4())
        ids[record.key] = zone_id
        if record.parent is not None:
            parent_id: UUID | None = ids[record.parent]
            parent_path = paths[ids[record.parent]]
        elif record.declared_parent_ext in outside:
            parent = outside[record.declared_parent_ext]
            parent_id, parent_path = parent.id, current(parent.path)
        elif row is not None and row["parent_id"] is not None:
            parent_id = row["parent_id"]
            parent_path = current(row["path"])[: -len(zone_id.hex) - 1]
        else:
            parent_id, parent_path = None, "/"
        if record.parent is None:
            roots.append(zone_id)
        path = f"{parent_path}{zone_id.hex}/"
        paths[zone_id] = path
        values = {
            **values_of(record),
            "parent_id": parent_id,
            # guifi.net's parent of a zone left without one here, for the export to say
            "parent_external_id": record.declared_parent_ext if parent_id is None else None,
        }
        if row is None:
            plan.create(zone_id, values, record.ext)
            plan.inserts[-1]["path"] = path
            continue
        now_at = current(row["path"])
        if now_at != path:
            if parent_path.startswith(now_at):
                raise CnmlError(record.line, f"zone {record.ext} would end up inside itself")
            await session.execute(
                update(Zone)
                .where(path_within(now_at))
                .values(path=path + func.substr(Zone.path, len(now_at) + 1))
                .execution_options(synchronize_session=False)
            )
            moves.append((now_at, path))
        plan.reconcile(row, values, record.ext)
    return ids, roots
