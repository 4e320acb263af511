"""A box's slivers in its desired state, and telling boxes that it changed.

Every change of the slivers a box must hold bumps the box's generation and sends it
``box.<id>.sync``, once per box and transaction however many slivers changed.
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from sqlalchemy import select, update

from guificloud.boxes import DistroSpec, SliverSpec
from guificloud.db.uow import UnitOfWork
from guificloud.events.provisioner import BoxSync, SliceSettled
from guificloud.states import sliver_failed
from guificloud_provisioner.models import Box
from guificloud_provisioner.slices.ladder import effective, settled
from guificloud_provisioner.slices.models import Slice, Sliver


def spec(sliver: Sliver, slice_: Slice) -> SliverSpec:
    return SliverSpec(
        sliver_id=sliver.id,
        slice_id=slice_.id,
        slice_name=slice_.name,
        instance=sliver.instance,
        set_state=effective(sliver, slice_),
        image=DistroSpec.model_validate(sliver.image),
        memory_mb=sliver.memory_mb,
        disk_mb=sliver.disk_mb,
        cpu_share=sliver.cpu_share,
    )


async def box_slivers(uow: UnitOfWork, box_id: UUID) -> list[SliverSpec]:
    """What the box must hold: its slivers but those being removed, oldest first."""
    rows = await uow.session.execute(
        select(Sliver, Slice)
        .join(Slice, Slice.id == Sliver.slice_id)
        .where(Sliver.box_id == box_id, Sliver.removing.is_(False))
        .order_by(Sliver.created_at, Sliver.id)
    )
    return [spec(sliver, slice_) for sliver, slice_ in rows.tuples()]


async def sync_boxes(uow: UnitOfWork, box_ids: Iterable[UUID]) -> None:
    """Bump the generation of each box (in id order, so concurrent callers never deadlock)
    and send each one ``box.sync``."""
    ids = sorted(set(box_ids))
    if not ids:
        return
    rows = await uow.session.execute(
        update(Box)
        .where(Box.id.in_(ids))
        .values(generation=Box.generation + 1)
        .returning(Box.id, Box.generation)
        .execution_options(synchronize_session=False)
    )
    for box_id, generation in rows.tuples():
        uow.emit(BoxSync(box_id=box_id, generation=generation))


async def refresh_settled(uow: UnitOfWork, slice_ids: Iterable[UUID]) -> None:
    """Recompute whether each slice has settled; ``provisioner.slice.settled`` when it just
    did. Slices are locked in id order: reports of several boxes may touch the same ones."""
    await uow.session.flush()
    for slice_id in sorted(set(slice_ids)):
        slice_ = await uow.session.get(
            Slice, slice_id, with_for_update=True, populate_existing=True
        )
        if slice_ is None:
            continue
        slivers = list(
            await uow.session.scalars(
                select(Sliver).where(Sliver.slice_id == slice_id, Sliver.removing.is_(False))
            )
        )
        now_settled = slice_.deleted_at is None and all(settled(s, slice_) for s in slivers)
        if now_settled and not slice_.settled:
            uow.emit(
                SliceSettled(
                    slice_id=slice_.id,
                    set_state=slice_.set_state,
                    slivers=len(slivers),
                    failed=sum(sliver_failed(s.state) for s in slivers),
                )
            )
        slice_.settled = now_settled
