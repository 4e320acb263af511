"""Level-triggered reconciliation of slivers: whatever message was lost, whichever process
restarted, a sliver whose actual state still differs from its desired one when its
back-off runs out gets its box told again (``box.<id>.sync``); after
``reconcile_max_attempts`` the sliver is given up into the ``fail_*`` state of the stage it
did not reach, with the reason. Several provisioner instances share the work
(``FOR UPDATE SKIP LOCKED``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from uuid import UUID

from sqlalchemy import select

from guificloud.db.uow import UnitOfWork
from guificloud.events.provisioner import BoxSync
from guificloud.logging import get_logger
from guificloud.states import REACHES, failure_state
from guificloud_provisioner.models import Box
from guificloud_provisioner.settings import ProvisionerSettings
from guificloud_provisioner.slices.desired import refresh_settled
from guificloud_provisioner.slices.ladder import backoff, effective, move, settled
from guificloud_provisioner.slices.models import Slice, Sliver

log = get_logger(__name__)

BATCH = 500


async def resend_sync(uow: UnitOfWork, box_ids: Iterable[UUID]) -> None:
    """``box.sync`` again at the box's current generation (its desired state is unchanged)."""
    ids = sorted(set(box_ids))
    if ids:
        rows = await uow.session.execute(select(Box.id, Box.generation).where(Box.id.in_(ids)))
        for box_id, generation in rows.tuples():
            uow.emit(BoxSync(box_id=box_id, generation=generation))


async def reconcile_slivers(uow: UnitOfWork, settings: ProvisionerSettings) -> int:
    """One pass over the slivers due for a look; returns how many it looked at."""
    now = datetime.now(UTC)
    rows = await uow.session.execute(
        select(Sliver, Slice)
        .join(Slice, Slice.id == Sliver.slice_id)
        .join(Box, Box.id == Sliver.box_id)
        .where(Sliver.next_check_at <= now, Box.online.is_not(False))
        .order_by(Sliver.next_check_at)
        .limit(BATCH)
        .with_for_update(of=Sliver, skip_locked=True)
    )
    resend: set[UUID] = set()
    touched: set[UUID] = set()
    seen = 0
    for sliver, slice_ in rows.tuples():
        seen += 1
        if not sliver.removing and settled(sliver, slice_):
            sliver.next_check_at = None
            continue
        if sliver.removing or sliver.attempts < settings.reconcile_max_attempts:
            sliver.attempts = min(sliver.attempts + 1, settings.reconcile_max_attempts)
            delay = backoff(settings, sliver.attempts)
            sliver.next_check_at = now + timedelta(seconds=delay)
            resend.add(sliver.box_id)
            continue
        wanted = effective(sliver, slice_)
        reason = f"box did not reach {wanted} after {sliver.attempts} attempts"
        move(uow, sliver, failure_state(sliver.state, REACHES[wanted]), reason)
        sliver.gave_up = True
        sliver.next_check_at = None
        touched.add(slice_.id)
        log.warning(
            "sliver.gave_up", sliver_id=str(sliver.id), box_id=str(sliver.box_id), reason=reason
        )
    await resend_sync(uow, resend)
    await refresh_settled(uow, touched)
    if resend:
        log.info("slivers.resynced", boxes=len(resend))
    return seen
