"""Who uses which image, learnt from the provisioner's events (a read model).

A box uses the distro digest it was last told to deploy or became ready with; slices and
slivers use theirs (``slice_usage``). An image whose digest anything uses cannot be
deleted, and its blob is never collected."""

from __future__ import annotations

from collections.abc import Hashable
from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from guificloud.db.uow import UnitOfWork
from guificloud.events.envelope import Event
from guificloud.events.provisioner import BoxDeploying, BoxReady
from guificloud_imagestore import slice_usage
from guificloud_imagestore.models import BoxUsage


async def record_usage(uow: UnitOfWork, box_id: UUID, digest: str, state: str) -> None:
    """The latest event of a box wins (the consumer keeps each box's events in order)."""
    values = {"digest": digest, "state": state, "updated_at": datetime.now(UTC)}
    await uow.session.execute(
        insert(BoxUsage)
        .values(box_id=box_id, **values)
        .on_conflict_do_update(index_elements=[BoxUsage.box_id], set_=values)
    )


async def handle_box_deploying(event: BoxDeploying, uow: UnitOfWork) -> None:
    await record_usage(uow, event.box_id, event.distro_digest, "deploying")


async def handle_box_ready(event: BoxReady, uow: UnitOfWork) -> None:
    await record_usage(uow, event.box_id, event.distro_digest, "ready")


def usage_partition(event: Event) -> Hashable:
    """Events of one slice (its slivers' too) in order, and of one box in order."""
    slice_id = getattr(event, "slice_id", None)
    return ("slice", slice_id) if slice_id is not None else ("box", getattr(event, "box_id", None))


async def usage_of(uow: UnitOfWork, digest: str) -> list[BoxUsage]:
    stmt = select(BoxUsage).where(BoxUsage.digest == digest).order_by(BoxUsage.box_id)
    return list(await uow.session.scalars(stmt))


async def boxes_using(uow: UnitOfWork, digest: str) -> list[UUID]:
    stmt = select(BoxUsage.box_id).where(BoxUsage.digest == digest).order_by(BoxUsage.box_id)
    return list(await uow.session.scalars(stmt))


async def used_digests(uow: UnitOfWork) -> set[str]:
    boxes = set(await uow.session.scalars(select(BoxUsage.digest).distinct()))
    return boxes | await slice_usage.slice_digests(uow)
