"""One lock order for every change, so that concurrent changes wait instead of deadlocking:
a group's facts row (quotas, :mod:`~guificloud_provisioner.slices.quotas`), then boxes,
then slivers, then slices, each in id order. Reports already come that way (the box, its
slivers, their slices); a change to a slice first finds its boxes, then locks.

A ``guard`` (the caller's rights over the slice's group, :mod:`guificloud_provisioner.access`)
runs before any lock is taken: a slice never changes group, so what it decides holds."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from sqlalchemy import select

from guificloud.db.uow import UnitOfWork
from guificloud.errors import Conflict, NotFound
from guificloud_provisioner.access import Guard
from guificloud_provisioner.models import Box
from guificloud_provisioner.slices.models import Slice, Sliver


async def lock_boxes(uow: UnitOfWork, box_ids: Iterable[UUID]) -> None:
    ids = sorted(set(box_ids))
    if ids:
        await uow.session.execute(
            select(Box.id).where(Box.id.in_(ids)).order_by(Box.id).with_for_update()
        )


async def group_of(uow: UnitOfWork, slice_id: UUID) -> UUID | None:
    """The slice's group (404 when there is no such slice)."""
    row = (await uow.session.execute(select(Slice.group_id).where(Slice.id == slice_id))).first()
    if row is None:
        raise NotFound(f"slice {slice_id} not found")
    group: UUID | None = row.group_id
    return group


async def lock_slice(
    uow: UnitOfWork, slice_id: UUID, *, guard: Guard | None, live: bool = True
) -> tuple[Slice, list[Sliver]]:
    """The slice and its slivers (those not being removed), locked with their boxes;
    404 when unknown, 403 when ``guard`` refuses, 409 when ``live`` and the slice is being
    deleted. ``guard`` None: the provisioner's own change (expiry)."""
    if guard is not None:
        guard(await group_of(uow, slice_id))
    boxes = await uow.session.scalars(select(Sliver.box_id).where(Sliver.slice_id == slice_id))
    await lock_boxes(uow, boxes)
    slivers = list(
        await uow.session.scalars(
            select(Sliver)
            .where(Sliver.slice_id == slice_id, Sliver.removing.is_(False))
            .order_by(Sliver.id)
            .with_for_update()
        )
    )
    slice_ = await uow.get(Slice, slice_id, "slice", for_update=True)
    if live and slice_.deleted_at is not None:
        raise Conflict(f"slice {slice_id} is being deleted")
    return slice_, slivers


async def lock_sliver(uow: UnitOfWork, sliver_id: UUID, *, guard: Guard) -> tuple[Sliver, Slice]:
    """The sliver, its box and its slice, locked in that order (403 when ``guard`` refuses)."""
    found = (
        await uow.session.execute(
            select(Sliver.box_id, Slice.group_id)
            .join(Slice, Slice.id == Sliver.slice_id)
            .where(Sliver.id == sliver_id)
        )
    ).first()
    if found is None:
        raise NotFound(f"sliver {sliver_id} not found")
    guard(found.group_id)
    await lock_boxes(uow, [found.box_id])
    sliver = await uow.get(Sliver, sliver_id, "sliver", for_update=True)
    slice_ = await uow.session.get(Slice, sliver.slice_id, with_for_update=True)
    assert slice_ is not None
    return sliver, slice_
