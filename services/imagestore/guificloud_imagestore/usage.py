"""Which boxes use which image, learnt from the provisioner's events (a read model).

A box uses the digest it was last told to deploy or became ready with; an image whose
digest a box uses cannot be deleted, and its blob is never collected."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from guificloud.bus.consumer import Handler
from guificloud.db.uow import UnitOfWork
from guificloud.events.envelope import Event
from guificloud.events.provisioner import BoxDeploying, BoxReady
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


USAGE_HANDLERS: dict[type[Event], Handler] = {
    BoxDeploying: handle_box_deploying,
    BoxReady: handle_box_ready,
}


async def usage_of(uow: UnitOfWork, digest: str) -> list[BoxUsage]:
    stmt = select(BoxUsage).where(BoxUsage.digest == digest).order_by(BoxUsage.box_id)
    return list(await uow.session.scalars(stmt))


async def boxes_using(uow: UnitOfWork, digest: str) -> list[UUID]:
    stmt = select(BoxUsage.box_id).where(BoxUsage.digest == digest).order_by(BoxUsage.box_id)
    return list(await uow.session.scalars(stmt))


async def used_digests(uow: UnitOfWork) -> set[str]:
    return set(await uow.session.scalars(select(BoxUsage.digest).distinct()))
