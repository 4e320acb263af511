"""The monitor's verdict on a box: its slivers show ``offline`` while it is unreachable;
when it is back it is told to sync, which also takes its replaced (stale) slivers away."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from guificloud.db.uow import UnitOfWork
from guificloud.events.monitor import BoxOffline, BoxOnline
from guificloud.logging import get_logger
from guificloud_provisioner.models import Box
from guificloud_provisioner.settings import ProvisionerSettings
from guificloud_provisioner.slices.desired import refresh_settled, sync_boxes
from guificloud_provisioner.slices.ladder import move, recheck
from guificloud_provisioner.slices.models import Slice, Sliver

log = get_logger(__name__)


async def _slivers(uow: UnitOfWork, box: Box) -> list[tuple[Sliver, Slice]]:
    rows = await uow.session.execute(
        select(Sliver, Slice)
        .join(Slice, Slice.id == Sliver.slice_id)
        .where(Sliver.box_id == box.id)
        .order_by(Sliver.id)
        .with_for_update(of=Sliver)
    )
    return list(rows.tuples())


async def handle_box_offline(event: BoxOffline, uow: UnitOfWork) -> None:
    box = await uow.session.get(Box, event.box_id, with_for_update=True)
    if box is None:
        return  # not a box of ours (yet): nothing of ours runs there
    box.online, box.online_since = False, datetime.now(UTC)
    touched = set()
    reason = f"box unreachable since {event.last_seen.isoformat()}"
    for sliver, slice_ in await _slivers(uow, box):
        if not sliver.removing and move(uow, sliver, "offline", reason):
            touched.add(slice_.id)
    await refresh_settled(uow, touched)
    log.info("box.slivers_offline", box_id=str(box.id), slices=len(touched))


async def handle_box_online(
    event: BoxOnline, uow: UnitOfWork, *, settings: ProvisionerSettings
) -> None:
    box = await uow.session.get(Box, event.box_id, with_for_update=True)
    if box is None:
        return
    was_offline = box.online is False
    box.online, box.online_since = True, datetime.now(UTC)
    slivers = await _slivers(uow, box)
    for sliver, slice_ in slivers:
        if sliver.state == "offline":
            recheck(sliver, slice_, settings)
    if slivers and was_offline:
        await sync_boxes(uow, [box.id])
