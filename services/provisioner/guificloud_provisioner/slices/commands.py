"""Changes to a slice after its creation: state, description, renewal, reset, deletion.

Each change of what boxes must hold bumps those boxes' generation and syncs them; each
change of desired state is published (``provisioner.slice.*``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

from sqlalchemy import select

from guificloud.db.uow import UnitOfWork
from guificloud.errors import InvalidInput
from guificloud.events.provisioner import SliceDeleted, SliceRenewed, SliceReset, SliceUpdated
from guificloud.logging import get_logger
from guificloud_provisioner.access import Guard
from guificloud_provisioner.settings import ProvisionerSettings
from guificloud_provisioner.slices.desired import refresh_settled, sync_boxes
from guificloud_provisioner.slices.ladder import effective, move, recheck
from guificloud_provisioner.slices.locks import lock_slice
from guificloud_provisioner.slices.models import Slice, Sliver
from guificloud_provisioner.slices.removal import start_removal
from guificloud_provisioner.slices.schemas import SlicePatch, SlicePut

log = get_logger(__name__)


async def get_slice(uow: UnitOfWork, slice_id: UUID, *, guard: Guard) -> Slice:
    slice_ = await uow.get(Slice, slice_id, "slice")
    guard(slice_.group_id)
    return slice_


async def patch_slice(
    uow: UnitOfWork,
    settings: ProvisionerSettings,
    slice_id: UUID,
    data: SlicePatch,
    *,
    guard: Guard,
) -> Slice:
    slice_, slivers = await lock_slice(uow, slice_id, guard=guard)
    fields = data.model_fields_set
    for name in ("set_state", "description"):
        if name in fields and getattr(data, name) is None:
            raise InvalidInput(f"{name} cannot be null", field=name)
    changed: dict[str, object] = {}
    if data.description is not None and data.description != slice_.description:
        slice_.description = changed["description"] = data.description
    if data.set_state is not None and data.set_state != slice_.set_state:
        before = {s.id: effective(s, slice_) for s in slivers}
        slice_.set_state = changed["set_state"] = data.set_state
        moved = [s for s in slivers if effective(s, slice_) != before[s.id]]
        for sliver in moved:
            recheck(sliver, slice_, settings)
        await sync_boxes(uow, [s.box_id for s in moved])
    if changed:
        slice_.updated_at = datetime.now(UTC)
        uow.emit(SliceUpdated(slice_id=slice_.id, changed=changed))
        await refresh_settled(uow, [slice_.id])
    return slice_


async def put_slice(
    uow: UnitOfWork,
    settings: ProvisionerSettings,
    slice_id: UUID,
    data: SlicePut,
    *,
    guard: Guard,
) -> Slice:
    slice_, slivers = await lock_slice(uow, slice_id, guard=guard)
    if data.set_state is not None and data.set_state != slice_.set_state:
        raise InvalidInput(
            "a PUT never changes the state: PATCH set_state instead", field="set_state"
        )
    if data.group_id is not None and data.group_id != slice_.group_id:
        raise InvalidInput(
            f"a slice stays in its group ({slice_.group_id}): make a new one in the other",
            field="group_id",
        )
    changed = {
        name: getattr(data, name)
        for name in ("name", "description")
        if getattr(data, name) != getattr(slice_, name)
    }
    for name, value in changed.items():
        setattr(slice_, name, value)
    if changed:
        slice_.updated_at = datetime.now(UTC)
        uow.emit(SliceUpdated(slice_id=slice_.id, changed=changed))
        if "name" in changed:  # boxes see the slice's name with each sliver
            await sync_boxes(uow, [s.box_id for s in slivers])
    return slice_


async def renew_slice(
    uow: UnitOfWork, settings: ProvisionerSettings, slice_id: UUID, *, guard: Guard
) -> Slice:
    """``expires_at`` becomes now plus the longest life a slice may have."""
    slice_, _ = await lock_slice(uow, slice_id, guard=guard)
    now = datetime.now(UTC)
    slice_.expires_at = now + timedelta(days=settings.slice_expiry_days)
    slice_.expiry_warned = False
    slice_.updated_at = now
    uow.emit(SliceRenewed(slice_id=slice_.id, expires_at=slice_.expires_at))
    return slice_


async def reset_slice(
    uow: UnitOfWork, settings: ProvisionerSettings, slice_id: UUID, *, guard: Guard
) -> Slice:
    """A new instance: every sliver is destroyed and made again from its image."""
    slice_, slivers = await lock_slice(uow, slice_id, guard=guard)
    slice_.instance += 1
    slice_.updated_at = datetime.now(UTC)
    for sliver in slivers:
        sliver.instance = slice_.instance
        if sliver.state != "offline":
            move(uow, sliver, "registered", f"reset to instance {slice_.instance}")
        recheck(sliver, slice_, settings)
    uow.emit(SliceReset(slice_id=slice_.id, instance=slice_.instance))
    await sync_boxes(uow, [s.box_id for s in slivers])
    await refresh_settled(uow, [slice_.id])
    return slice_


async def delete_slice(
    uow: UnitOfWork,
    settings: ProvisionerSettings,
    slice_id: UUID,
    reason: str,
    *,
    guard: Guard | None,
) -> Slice | None:
    """Slivers leave their boxes' desired state now; the slice goes once they are gone.
    Returns None when it was already being deleted. ``guard`` None: the provisioner's own
    deletion (expiry)."""
    slice_, slivers = await lock_slice(uow, slice_id, guard=guard, live=False)
    if slice_.deleted_at is not None:
        return None
    slice_.deleted_at = slice_.updated_at = datetime.now(UTC)
    slice_.delete_reason = reason
    slice_.settled = False
    for sliver in slivers:
        start_removal(sliver, f"slice {reason}", settings)
    uow.emit(SliceDeleted(slice_id=slice_.id, reason=reason))
    await sync_boxes(uow, [s.box_id for s in slivers])
    if not slivers and not await uow.session.scalar(
        select(Sliver.id).where(Sliver.slice_id == slice_id).limit(1)
    ):
        await uow.session.delete(slice_)
    log.info("slice.deleted", slice_id=str(slice_id), reason=reason, slivers=len(slivers))
    return slice_
