"""Taking slivers off boxes: first out of the box's desired state, then (once the box says
it no longer holds them, or the box is gone) out of the database with their capacity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Delete, delete, exists, select

from guificloud.db.uow import UnitOfWork
from guificloud.events.provisioner import SliverDeleted
from guificloud_provisioner.settings import ProvisionerSettings
from guificloud_provisioner.slices.ladder import backoff
from guificloud_provisioner.slices.models import Slice, Sliver
from guificloud_provisioner.slices.placement import release


def start_removal(sliver: Sliver, reason: str, settings: ProvisionerSettings) -> bool:
    """Out of its box's desired state (the caller syncs the box); False if already so."""
    if sliver.removing:
        return False
    sliver.removing = True
    sliver.remove_reason = reason
    sliver.attempts = 0
    sliver.updated_at = datetime.now(UTC)
    sliver.next_check_at = datetime.now(UTC) + timedelta(seconds=backoff(settings, 0))
    return True


async def finish_removal(uow: UnitOfWork, sliver: Sliver) -> None:
    """The box no longer holds it: capacity back, row gone, and its slice too when it was
    deleted and this was its last sliver."""
    await release(uow, sliver.box_id, sliver.memory_mb, sliver.disk_mb)
    uow.emit(
        SliverDeleted(
            sliver_id=sliver.id,
            slice_id=sliver.slice_id,
            box_id=sliver.box_id,
            image_digest=str(sliver.image.get("digest")),
            reason=sliver.remove_reason or "removed",
        )
    )
    await uow.session.delete(sliver)
    await uow.session.flush()
    # Two boxes' reports may remove a slice's last two slivers in two transactions at once;
    # without this lock each would still see the other's sliver and keep the slice for ever.
    # The second to take it sees the first's deletion (READ COMMITTED, a new statement).
    await uow.session.execute(select(Slice.id).where(Slice.id == sliver.slice_id).with_for_update())
    await uow.session.execute(_deleted_and_empty().where(Slice.id == sliver.slice_id))


def _deleted_and_empty() -> Delete:
    return delete(Slice).where(
        Slice.deleted_at.is_not(None),
        ~exists(select(Sliver.id).where(Sliver.slice_id == Slice.id)),
    )


async def sweep_deleted_slices(uow: UnitOfWork, settings: ProvisionerSettings) -> int:
    """Loop pass: a deleted slice whose last sliver went away is removed even if the
    removal that took that sliver did not (a lost race, a sliver removed another way)."""
    result = await uow.session.execute(_deleted_and_empty())
    return int(getattr(result, "rowcount", 0) or 0)
