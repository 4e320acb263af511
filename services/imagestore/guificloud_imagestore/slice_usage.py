"""Which slices and slivers use which image, learnt from the provisioner's events.

A slice names its image (new slivers of it are placed from it); a sliver runs its own
(the slice's, or its override). Both stop using it when deleted. Deletions leave a
tombstone (``deleted_at``) for ``TOMBSTONE_TTL``: the consumer retries a failed event with
back-off while the next ones go on, so a ``SliverCreated`` may be handled after its
``SliceDeleted``, and must then change nothing. The collector prunes older tombstones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from uuid import UUID

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import CursorResult

from guificloud.boxes import DIGEST_PATTERN
from guificloud.db.uow import UnitOfWork
from guificloud.events.provisioner import (
    SliceCreated,
    SliceDeleted,
    SliverCreated,
    SliverDeleted,
    SliverUpdated,
)
from guificloud.logging import get_logger
from guificloud_imagestore.models import SliceUsage, SliverUsage

log = get_logger(__name__)

TOMBSTONE_TTL = timedelta(days=1)
"""Far longer than the consumer's retries of one event (about a minute in all)."""


async def slice_gone(uow: UnitOfWork, slice_id: UUID) -> bool:
    stmt = select(SliceUsage.deleted_at).where(SliceUsage.slice_id == slice_id)
    return (await uow.session.scalar(stmt)) is not None


async def handle_slice_created(event: SliceCreated, uow: UnitOfWork) -> None:
    """A tombstone already there (its deletion was handled first) stays as it is."""
    await uow.session.execute(
        insert(SliceUsage)
        .values(slice_id=event.slice_id, digest=event.image_digest, updated_at=datetime.now(UTC))
        .on_conflict_do_nothing(index_elements=[SliceUsage.slice_id])
    )


async def handle_slice_deleted(event: SliceDeleted, uow: UnitOfWork) -> None:
    now = datetime.now(UTC)
    await uow.session.execute(
        insert(SliceUsage)
        .values(slice_id=event.slice_id, updated_at=now, deleted_at=now)
        .on_conflict_do_update(
            index_elements=[SliceUsage.slice_id], set_={"deleted_at": now, "updated_at": now}
        )
    )
    await uow.session.execute(
        update(SliverUsage)
        .where(SliverUsage.slice_id == event.slice_id, SliverUsage.deleted_at.is_(None))
        .values(deleted_at=now, updated_at=now)
    )


async def record_sliver(
    uow: UnitOfWork, sliver_id: UUID, slice_id: UUID, box_id: UUID, digest: str, *, replace: bool
) -> None:
    """Insert the sliver's usage; ``replace`` also moves a live one to ``digest``."""
    if await slice_gone(uow, slice_id):
        return
    now = datetime.now(UTC)
    stmt = insert(SliverUsage).values(
        sliver_id=sliver_id, slice_id=slice_id, box_id=box_id, digest=digest, updated_at=now
    )
    if replace:
        await uow.session.execute(
            stmt.on_conflict_do_update(
                index_elements=[SliverUsage.sliver_id],
                set_={"digest": digest, "box_id": box_id, "updated_at": now},
                where=SliverUsage.deleted_at.is_(None),
            )
        )
    else:  # created after an update or a deletion was handled: those are newer
        await uow.session.execute(stmt.on_conflict_do_nothing(index_elements=["sliver_id"]))


async def handle_sliver_created(event: SliverCreated, uow: UnitOfWork) -> None:
    await record_sliver(
        uow, event.sliver_id, event.slice_id, event.box_id, event.image_digest, replace=False
    )


async def handle_sliver_updated(event: SliverUpdated, uow: UnitOfWork) -> None:
    """Only a change of ``image_digest`` matters here; other changes are not about images."""
    if "image_digest" not in event.changed:
        return
    digest = event.changed["image_digest"]
    if not isinstance(digest, str) or not re.fullmatch(DIGEST_PATTERN, digest):
        log.warning("usage.sliver_digest_ignored", sliver_id=str(event.sliver_id), digest=digest)
        return
    await record_sliver(uow, event.sliver_id, event.slice_id, event.box_id, digest, replace=True)


async def handle_sliver_deleted(event: SliverDeleted, uow: UnitOfWork) -> None:
    now = datetime.now(UTC)
    await uow.session.execute(
        insert(SliverUsage)
        .values(
            sliver_id=event.sliver_id,
            slice_id=event.slice_id,
            box_id=event.box_id,
            digest=event.image_digest,
            updated_at=now,
            deleted_at=now,
        )
        .on_conflict_do_update(
            index_elements=[SliverUsage.sliver_id], set_={"deleted_at": now, "updated_at": now}
        )
    )


@dataclass(frozen=True)
class SliceUse:
    """One slice that uses an image: it names it, or ``slivers`` of its slivers run it."""

    slice_id: UUID
    names_image: bool
    slivers: int


async def slices_using(uow: UnitOfWork, digest: str) -> list[SliceUse]:
    """Live slices that name ``digest`` or have live slivers running it, by slice id."""
    slivers = (
        select(SliverUsage.slice_id, func.count().label("n"))
        .where(SliverUsage.digest == digest, SliverUsage.deleted_at.is_(None))
        .group_by(SliverUsage.slice_id)
        .subquery()
    )
    named = (
        select(SliceUsage.slice_id)
        .where(SliceUsage.digest == digest, SliceUsage.deleted_at.is_(None))
        .subquery()
    )
    slice_id = func.coalesce(named.c.slice_id, slivers.c.slice_id)
    stmt = (
        select(slice_id, named.c.slice_id.is_not(None), func.coalesce(slivers.c.n, 0))
        .select_from(named.join(slivers, named.c.slice_id == slivers.c.slice_id, full=True))
        .order_by(slice_id)
    )
    rows = await uow.session.execute(stmt)
    return [SliceUse(slice_id=s, names_image=bool(n), slivers=int(c)) for s, n, c in rows]


async def slice_digests(uow: UnitOfWork) -> set[str]:
    """Every digest a live slice or sliver uses: their blobs are kept."""
    slices = select(SliceUsage.digest).where(
        SliceUsage.deleted_at.is_(None), SliceUsage.digest.is_not(None)
    )
    slivers = select(SliverUsage.digest).where(SliverUsage.deleted_at.is_(None))
    return {d for d in await uow.session.scalars(slices.union(slivers)) if d is not None}


async def prune_tombstones(uow: UnitOfWork, *, older_than: timedelta = TOMBSTONE_TTL) -> int:
    """Forget slices and slivers deleted long ago; returns how many rows went."""
    cutoff = datetime.now(UTC) - older_than
    gone = 0
    for table in (SliverUsage, SliceUsage):
        result = await uow.session.execute(delete(table).where(table.deleted_at < cutoff))
        gone += cast(CursorResult[Any], result).rowcount or 0
    return gone
