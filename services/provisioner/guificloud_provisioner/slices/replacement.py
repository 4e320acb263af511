"""Box loss: a slice created with ``replace_on_loss`` gets, for each sliver whose box has
been offline longer than ``replace_grace_s``, a replacement on another box under the
slice's own constraints. The lost sliver leaves its box's desired state, so the box drops
it when it returns. Without a box to take it, the sliver waits for the next pass."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from guificloud.db.uow import UnitOfWork
from guificloud.errors import Conflict, InvalidInput
from guificloud.logging import get_logger
from guificloud_provisioner.models import Box
from guificloud_provisioner.settings import ProvisionerSettings
from guificloud_provisioner.slices import image_builds, placement
from guificloud_provisioner.slices.create import add_slivers, placement_request, zone_ids_of
from guificloud_provisioner.slices.desired import sync_boxes
from guificloud_provisioner.slices.models import Slice, Sliver
from guificloud_provisioner.slices.removal import start_removal

log = get_logger(__name__)

BATCH = 100


async def _arches(uow: UnitOfWork, slice_: Slice) -> set[str] | None:
    if slice_.image_pinned:
        image = await image_builds.by_digest(uow, slice_.image_digest, "image")
        return None if image.arch == "all" else {image.arch}
    return await image_builds.arches(uow, slice_.image_name, slice_.image_version)


async def replace_lost(uow: UnitOfWork, settings: ProvisionerSettings) -> int:
    """One pass; returns how many slivers got a replacement."""
    lost_since = datetime.now(UTC) - timedelta(seconds=settings.replace_grace_s)
    rows = await uow.session.execute(
        select(Sliver, Slice)
        .join(Slice, Slice.id == Sliver.slice_id)
        .join(Box, Box.id == Sliver.box_id)
        .where(
            Slice.replace_on_loss.is_(True),
            Slice.deleted_at.is_(None),
            Sliver.removing.is_(False),
            Box.online.is_(False),
            Box.online_since <= lost_since,
        )
        .order_by(Sliver.id)
        .limit(BATCH)
        .with_for_update(of=Sliver, skip_locked=True)
    )
    replaced = 0
    for lost, slice_ in rows.tuples():
        siblings = (
            await uow.session.execute(
                select(Sliver.box_id, Sliver.node_id).where(Sliver.slice_id == slice_.id)
            )
        ).all()
        request = placement_request(slice_, await zone_ids_of(uow, slice_), 1)
        request = replace(
            request,
            exclude_boxes=frozenset(b for b, _ in siblings),
            exclude_nodes=frozenset(n for _, n in siblings) if request.spread else frozenset(),
        )
        try:
            async with uow.session.begin_nested():
                boxes = await placement.place_count(
                    uow, settings, request, await _arches(uow, slice_)
                )
        except (Conflict, InvalidInput) as exc:
            log.info("sliver.replacement_waits", sliver_id=str(lost.id), why=str(exc))
            continue
        (new,) = await add_slivers(uow, settings, slice_, boxes, replaces=lost.id)
        lost.replaced_by = new.id
        start_removal(lost, f"replaced by {new.id}", settings)
        await sync_boxes(uow, [lost.box_id])
        replaced += 1
        log.info("sliver.replaced", sliver_id=str(lost.id), by=str(new.id), box_id=str(new.box_id))
    return replaced
