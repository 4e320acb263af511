"""The zone tree read model, fed by the registry's zone events (one by one, or a whole
CNML import at once), so that a placement may ask for a zone's subtree."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert

from guificloud.db.uow import UnitOfWork
from guificloud.events.registry import ZoneCreated, ZoneDeleted, ZonesImported, ZoneUpdated
from guificloud_provisioner.slices.models import Zone


def _uuid(value: Any) -> UUID | None:
    return None if value is None else UUID(str(value))


async def _upsert(uow: UnitOfWork, rows: Iterable[tuple[UUID, UUID | None]]) -> None:
    values = [{"id": zone_id, "parent_id": parent_id} for zone_id, parent_id in rows]
    if not values:
        return
    stmt = insert(Zone).values(values)
    await uow.session.execute(
        stmt.on_conflict_do_update(
            index_elements=[Zone.id], set_={"parent_id": stmt.excluded.parent_id}
        )
    )


async def handle_zone_created(event: ZoneCreated, uow: UnitOfWork) -> None:
    await _upsert(uow, [(event.zone_id, event.parent_id)])


async def handle_zone_updated(event: ZoneUpdated, uow: UnitOfWork) -> None:
    if "parent_id" in event.changes:
        await _upsert(uow, [(event.zone_id, _uuid(event.changes["parent_id"]))])


async def handle_zone_deleted(event: ZoneDeleted, uow: UnitOfWork) -> None:
    await uow.session.execute(delete(Zone).where(Zone.id == event.zone_id))


async def handle_zones_imported(event: ZonesImported, uow: UnitOfWork) -> None:
    await _upsert(
        uow,
        [
            (change.id, _uuid(change.changes.get("parent_id")))
            for change in event.changes
            if change.verb == "created" or "parent_id" in change.changes
        ],
    )
