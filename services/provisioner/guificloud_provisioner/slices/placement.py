"""Placement in the database: candidates for the scheduler, and capacity reserved so that
no box is ever over-committed, also by two provisioner instances placing at the same moment.

A reservation is one conditional ``UPDATE`` of the chosen boxes' allocations (rows locked
in id order first): it succeeds only where the room is still there once the row is locked,
so a placement that lost a race for a box learns it and asks the scheduler again without
that box. Deadlocks between two placements are possible in theory (later rounds lock more
boxes); PostgreSQL breaks them and the caller retries the whole transaction.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.exc import DBAPIError

from guificloud.db.uow import UnitOfWork
from guificloud.errors import Conflict, InvalidInput
from guificloud_provisioner.models import Box
from guificloud_provisioner.settings import ProvisionerSettings
from guificloud_provisioner.slices.models import Sliver, Zone
from guificloud_provisioner.slices.scheduler import (
    Candidate,
    PlacementError,
    PlacementRequest,
    place,
)

MAX_ROUNDS = 8
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})  # deadlock, serialization failure


def free_memory(settings: ProvisionerSettings) -> ColumnElement[int]:
    return Box.ram_mb - settings.box_reserve_memory_mb - Box.allocated_memory_mb


def free_disk(settings: ProvisionerSettings) -> ColumnElement[int]:
    return Box.disk_gb * 1024 - settings.box_reserve_disk_mb - Box.allocated_disk_mb


def is_retryable(exc: BaseException) -> bool:
    """A deadlock or serialization failure: the transaction may simply be run again."""
    if not isinstance(exc, DBAPIError):
        return False
    for err in (exc.orig, getattr(exc.orig, "__cause__", None)):
        if getattr(err, "sqlstate", None) in RETRYABLE_SQLSTATES:
            return True
    return False


async def zone_subtree(uow: UnitOfWork, zone_id: UUID) -> frozenset[UUID]:
    """``zone_id`` and every zone under it, from the registry's zone tree read model."""
    tree = select(Zone.id).where(Zone.parent_id == zone_id).cte("tree", recursive=True)
    tree = tree.union(select(Zone.id).join(tree, Zone.parent_id == tree.c.id))
    return frozenset({zone_id, *await uow.session.scalars(select(tree.c.id))})


async def candidates(
    uow: UnitOfWork,
    settings: ProvisionerSettings,
    request: PlacementRequest,
    arches: set[str] | None,
) -> list[Candidate]:
    """Ready boxes not known to be offline, with the arch and the room the request needs."""
    counts = (
        select(Sliver.box_id, func.count().label("n")).group_by(Sliver.box_id).subquery("counts")
    )
    stmt = (
        select(
            Box.id,
            Box.node_id,
            Box.zone_id,
            Box.arch,
            free_memory(settings),
            free_disk(settings),
            func.coalesce(counts.c.n, 0),
        )
        .outerjoin(counts, counts.c.box_id == Box.id)
        .where(
            Box.state == "ready",
            Box.online.is_not(False),
            free_memory(settings) >= max(request.memory_mb, request.min_free_memory_mb),
            free_disk(settings) >= max(request.disk_mb, request.min_free_disk_mb),
        )
    )
    if arches is not None:
        stmt = stmt.where(Box.arch.in_(arches))
    if request.arch is not None:
        stmt = stmt.where(Box.arch == request.arch)
    if request.zone_ids is not None:
        stmt = stmt.where(Box.zone_id.in_(request.zone_ids))
    return [Candidate(*row) for row in await uow.session.execute(stmt)]


async def reserve(
    uow: UnitOfWork,
    settings: ProvisionerSettings,
    box_ids: list[UUID],
    request: PlacementRequest,
) -> set[UUID]:
    """Take the request's memory and disk on each box that still has the room; returns
    the boxes reserved. Rows are locked in id order, then updated only if they fit."""
    if not box_ids:
        return set()
    ids = sorted(set(box_ids))
    await uow.session.execute(
        select(Box.id).where(Box.id.in_(ids)).order_by(Box.id).with_for_update()
    )
    rows = await uow.session.execute(
        update(Box)
        .where(
            Box.id.in_(ids),
            free_memory(settings) >= max(request.memory_mb, request.min_free_memory_mb),
            free_disk(settings) >= max(request.disk_mb, request.min_free_disk_mb),
        )
        .values(
            allocated_memory_mb=Box.allocated_memory_mb + request.memory_mb,
            allocated_disk_mb=Box.allocated_disk_mb + request.disk_mb,
        )
        .returning(Box.id)
        .execution_options(synchronize_session=False)
    )
    return set(rows.scalars())


async def release(uow: UnitOfWork, box_id: UUID, memory_mb: int, disk_mb: int) -> None:
    await uow.session.execute(
        update(Box)
        .where(Box.id == box_id)
        .values(
            allocated_memory_mb=func.greatest(Box.allocated_memory_mb - memory_mb, 0),
            allocated_disk_mb=func.greatest(Box.allocated_disk_mb - disk_mb, 0),
        )
        .execution_options(synchronize_session=False)
    )


async def place_count(
    uow: UnitOfWork,
    settings: ProvisionerSettings,
    request: PlacementRequest,
    arches: set[str] | None,
) -> list[UUID]:
    """Choose and reserve boxes for ``request.count`` slivers, asking the scheduler again
    for what concurrent placements took first; :class:`Conflict` on ``placement`` when
    there are not enough boxes."""
    chosen: list[UUID] = []
    node_of: dict[UUID, UUID] = {}
    for _ in range(MAX_ROUNDS):
        missing = request.count - len(chosen)
        if missing <= 0:
            return chosen
        found = await candidates(uow, settings, request, arches)
        node_of.update({c.box_id: c.node_id for c in found})
        try:
            picked = place(replace(request, count=missing), found)
        except PlacementError as exc:
            raise Conflict(str(exc), field="placement") from exc
        got = await reserve(uow, settings, picked, request)
        chosen += [box for box in picked if box in got]
        lost = frozenset(picked) - got
        taken = frozenset(node_of[b] for b in got) if request.spread else frozenset()
        request = replace(
            request,
            exclude_boxes=request.exclude_boxes | frozenset(picked) | lost,
            exclude_nodes=request.exclude_nodes | taken,
        )
    raise Conflict("boxes kept being taken by other placements; try again", field="placement")


async def place_explicit(
    uow: UnitOfWork,
    settings: ProvisionerSettings,
    box_ids: list[UUID],
    request: PlacementRequest,
    arches: set[str] | None,
    field: str = "placement.boxes",
) -> list[UUID]:
    """Reserve the named boxes (any state: a sliver waits for its box); each must exist,
    fit the image's arch and have the room."""
    if len(set(box_ids)) != len(box_ids):
        raise Conflict("a box is named twice (one sliver per box)", field=field)
    boxes: dict[UUID, Any] = {
        b.id: b for b in await uow.session.scalars(select(Box).where(Box.id.in_(box_ids)))
    }
    for box_id in box_ids:
        box = boxes.get(box_id)
        if box is None:
            raise InvalidInput(f"unknown box {box_id}", field=field)
        if arches is not None and box.arch not in arches:
            raise InvalidInput(
                f"box {box_id} is {box.arch}; the image is built for {sorted(arches)}", field=field
            )
    got = await reserve(uow, settings, box_ids, request)
    short = [str(b) for b in box_ids if b not in got]
    if short:
        raise Conflict(f"not enough free memory or disk on box {', '.join(short)}", field=field)
    return box_ids
