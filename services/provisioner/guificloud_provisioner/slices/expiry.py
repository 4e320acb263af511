"""Slice expiry: the owner is warned once (``provisioner.slice.expiring``)
``slice_expiry_warning_days`` before, and an expired slice is deleted (reason ``expired``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from guificloud.db.uow import UnitOfWork
from guificloud.events.provisioner import SliceExpiring
from guificloud_provisioner.settings import ProvisionerSettings
from guificloud_provisioner.slices.commands import delete_slice
from guificloud_provisioner.slices.models import Slice

BATCH = 100


async def expire_slices(uow: UnitOfWork, settings: ProvisionerSettings) -> int:
    """One pass: warnings, then deletions; returns how many slices it deleted."""
    now = datetime.now(UTC)
    warn_until = now + timedelta(days=settings.slice_expiry_warning_days)
    due = await uow.session.scalars(
        select(Slice)
        .where(
            Slice.deleted_at.is_(None),
            Slice.expiry_warned.is_(False),
            Slice.expires_at <= warn_until,
        )
        .order_by(Slice.expires_at)
        .limit(BATCH)
        .with_for_update(skip_locked=True)
    )
    for slice_ in due:
        slice_.expiry_warned = True
        uow.emit(
            SliceExpiring(
                slice_id=slice_.id,
                owner_group=slice_.owner_group,
                group_id=slice_.group_id,
                expires_at=slice_.expires_at,
            )
        )
    expired = list(
        await uow.session.scalars(
            select(Slice.id)
            .where(Slice.deleted_at.is_(None), Slice.expires_at <= now)
            .order_by(Slice.expires_at)
            .limit(BATCH)
        )
    )
    for slice_id in expired:  # each locked in the one order (another instance may be first)
        await delete_slice(uow, settings, slice_id, "expired", guard=None)
    return len(expired)
