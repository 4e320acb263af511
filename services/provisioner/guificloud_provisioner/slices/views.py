"""Slices and slivers as the API shows them (counts by actual state, effective states)."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import func, select

from guificloud.db.uow import UnitOfWork
from guificloud_provisioner.slices.ladder import effective
from guificloud_provisioner.slices.models import Slice, Sliver, SliverTransition
from guificloud_provisioner.slices.schemas import (
    ImageOut,
    SliceOut,
    SliverDefaults,
    SliverDetail,
    SliverOut,
    SliverTransitionOut,
)


async def counts(uow: UnitOfWork, slice_ids: Sequence[UUID]) -> dict[UUID, dict[str, int]]:
    rows = await uow.session.execute(
        select(Sliver.slice_id, Sliver.state, func.count())
        .where(Sliver.slice_id.in_(slice_ids), Sliver.removing.is_(False))
        .group_by(Sliver.slice_id, Sliver.state)
    )
    found: dict[UUID, dict[str, int]] = {i: {} for i in slice_ids}
    for slice_id, state, n in rows.tuples():
        found[slice_id][state] = n
    return found


def slice_out(slice_: Slice, by_state: dict[str, int]) -> SliceOut:
    return SliceOut(
        id=slice_.id,
        name=slice_.name,
        description=slice_.description,
        group_id=slice_.group_id,
        owner_group=slice_.owner_group,
        image=ImageOut(
            name=slice_.image_name, version=slice_.image_version, digest=slice_.image_digest
        ),
        sliver_defaults=SliverDefaults(
            memory_mb=slice_.memory_mb, disk_mb=slice_.disk_mb, cpu_share=slice_.cpu_share
        ),
        placement=slice_.placement,
        replace_on_loss=slice_.replace_on_loss,
        set_state=slice_.set_state,
        instance=slice_.instance,
        expires_at=slice_.expires_at,
        created_at=slice_.created_at,
        updated_at=slice_.updated_at,
        counts=by_state,
        settled=slice_.settled,
        deleted_at=slice_.deleted_at,
    )


async def one_slice(uow: UnitOfWork, slice_: Slice) -> SliceOut:
    await uow.session.flush()
    return slice_out(slice_, (await counts(uow, [slice_.id]))[slice_.id])


def sliver_out(sliver: Sliver, slice_: Slice) -> SliverOut:
    image = sliver.image
    return SliverOut(
        id=sliver.id,
        slice_id=sliver.slice_id,
        box_id=sliver.box_id,
        node_id=sliver.node_id,
        zone_id=sliver.zone_id,
        set_state=sliver.set_state,
        effective_set_state=effective(sliver, slice_),
        image=ImageOut(name=image["name"], version=image["version"], digest=image["digest"]),
        memory_mb=sliver.memory_mb,
        disk_mb=sliver.disk_mb,
        cpu_share=sliver.cpu_share,
        instance=sliver.instance,
        state=sliver.state,
        reason=sliver.reason,
        replaces=sliver.replaces,
        removing=sliver.removing,
        updated_at=sliver.updated_at,
    )


async def sliver_detail(uow: UnitOfWork, sliver: Sliver, slice_: Slice) -> SliverDetail:
    await uow.session.flush()
    history = await uow.session.scalars(
        select(SliverTransition)
        .where(SliverTransition.sliver_id == sliver.id)
        .order_by(SliverTransition.id)
    )
    return SliverDetail(
        **sliver_out(sliver, slice_).model_dump(),
        history=[SliverTransitionOut.model_validate(t) for t in history],
    )
