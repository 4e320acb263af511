"""Zones: creating, correcting, moving and deleting them while the tree stays a tree."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import exists, func, select, text, update

from guificloud.auth import Principal
from guificloud.db.uow import UnitOfWork
from guificloud.errors import Conflict, InvalidInput
from guificloud.events.registry import ZoneCreated, ZoneDeleted, ZoneUpdated
from guificloud.logging import get_logger
from guificloud_registry.access import ensure_manages_zone, ensure_operator_for_top_zone
from guificloud_registry.commands.changes import assign, ensure_external_id_free, touch
from guificloud_registry.conditional import check_if_match
from guificloud_registry.models import Node, Zone
from guificloud_registry.schemas import ZoneIn, ZonePatch
from guificloud_registry.search import path_within

log = get_logger(__name__)

TREE_LOCK = 0x6775_6966  # serializes moves and imports, so two of them cannot make a cycle


def child_path(parent: Zone | None, zone_id: UUID) -> str:
    return f"{parent.path if parent else '/'}{zone_id.hex}/"


async def lock_tree(uow: UnitOfWork) -> None:
    await uow.session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": TREE_LOCK})


def _columns(data: ZoneIn | ZonePatch, fields: set[str]) -> dict[str, Any]:
    values = {k: getattr(data, k) for k in fields if k not in {"box", "parent_id"}}
    if "box" in fields:
        box = data.box
        values.update(
            min_lon=box.min_lon if box else None,
            min_lat=box.min_lat if box else None,
            max_lon=box.max_lon if box else None,
            max_lat=box.max_lat if box else None,
        )
    return values


async def create_zone(uow: UnitOfWork, data: ZoneIn, *, by: Principal) -> Zone:
    """A subzone is for the maintainers of its parent's subtree; a top zone for operators."""
    parent = None
    if data.parent_id is not None:
        parent = await uow.session.get(Zone, data.parent_id)
        if parent is None:
            raise InvalidInput(f"unknown zone {data.parent_id}", field="parent_id")
        ensure_manages_zone(by, parent.id, parent.path, f"create a zone in zone {parent.id}")
    else:
        ensure_operator_for_top_zone(by, "create a zone without parent_id")
    await ensure_external_id_free(uow.session, Zone, data.external_id)
    zone_id = uuid4()
    fields = _columns(data, set(data.model_fields_set) | {"name"})
    fields.setdefault("external_id", data.external_id)
    zone = Zone(id=zone_id, parent_id=data.parent_id, path=child_path(parent, zone_id), **fields)
    uow.session.add(zone)
    await uow.session.flush()
    uow.emit(
        ZoneCreated(
            zone_id=zone.id,
            name=zone.name,
            parent_id=zone.parent_id,
            fields={k: v for k, v in fields.items() if k != "name"},
        )
    )
    return zone


async def update_zone(
    uow: UnitOfWork, zone_id: UUID, data: ZonePatch, *, by: Principal, if_match: str | None = None
) -> Zone:
    """For the zone's maintainers (or a zone's above); a move also needs the new parent's."""
    zone = await get_zone(uow, zone_id)
    ensure_manages_zone(by, zone.id, zone.path, f"change zone {zone_id}")
    check_if_match(if_match, zone.version)
    fields = set(data.model_fields_set)
    if "name" in fields and data.name is None:
        raise InvalidInput("a zone needs a name", field="name")
    changes = assign(zone, _columns(data, fields))
    if "parent_id" in fields and data.parent_id != zone.parent_id:
        await _move(uow, zone, data.parent_id, by)
        changes["parent_id"] = data.parent_id
    if changes:
        touch(zone)
        uow.emit(ZoneUpdated(zone_id=zone.id, changes=changes))
    await uow.commit()
    return zone


async def _move(uow: UnitOfWork, zone: Zone, parent_id: UUID | None, by: Principal) -> None:
    """Re-parent ``zone``; its whole subtree's paths follow in one statement. Paths are read
    again under the tree lock: a move that committed meanwhile may have changed them."""
    await lock_tree(uow)
    old = await uow.session.scalar(select(Zone.path).where(Zone.id == zone.id))
    assert old is not None
    new_parent = "/"
    doing = f"move zone {zone.id}"
    if parent_id is None:
        ensure_operator_for_top_zone(by, f"{doing} to the top")
    else:
        parent_path = await uow.session.scalar(select(Zone.path).where(Zone.id == parent_id))
        if parent_path is None:
            raise InvalidInput(f"unknown zone {parent_id}", field="parent_id")
        ensure_manages_zone(by, parent_id, parent_path, f"{doing} into zone {parent_id}")
        if parent_path.startswith(old):
            raise InvalidInput("a zone cannot be moved inside its own subtree", field="parent_id")
        new_parent = parent_path
    new = f"{new_parent}{zone.id.hex}/"
    await uow.session.execute(
        update(Zone)
        .where(path_within(old))
        .values(path=new + func.substr(Zone.path, len(old) + 1))
        .execution_options(synchronize_session=False)
    )
    zone.parent_id = parent_id
    zone.parent_external_id = None  # where guifi.net had it no longer says where it is
    zone.path = new
    log.info("zone.moved", zone_id=str(zone.id), parent_id=str(parent_id))


async def delete_zone(
    uow: UnitOfWork, zone_id: UUID, *, by: Principal, if_match: str | None = None
) -> None:
    """Only an empty leaf goes: a zone with subzones or nodes is refused, never emptied."""
    zone = await get_zone(uow, zone_id)
    ensure_manages_zone(by, zone.id, zone.path, f"delete zone {zone_id}")
    check_if_match(if_match, zone.version)
    if await uow.session.scalar(select(exists().where(Zone.parent_id == zone_id))):
        raise Conflict(f"zone {zone_id} has subzones: move or delete them first")
    if await uow.session.scalar(select(exists().where(Node.zone_id == zone_id))):
        raise Conflict(f"zone {zone_id} has nodes: move or delete them first")
    await uow.session.delete(zone)
    uow.emit(ZoneDeleted(zone_id=zone_id))
    await uow.commit()


async def get_zone(uow: UnitOfWork, zone_id: UUID) -> Zone:
    zone = await uow.get(Zone, zone_id, "zone")
    return zone
