"""One PostgreSQL advisory lock between filing blobs and collecting them.

Filing a blob and recording the image that names it happen under the shared lock, in one
transaction; the garbage collector takes it exclusively while it decides and deletes. So it
never deletes a blob an image is being recorded for, whatever the instance or the timing.
"""

from __future__ import annotations

from sqlalchemy import func, select

from guificloud.db.uow import UnitOfWork

BLOBS_LOCK = 0x67756966_69696D67  # "guifiimg": database-wide, so unique to this service


async def share_blobs(uow: UnitOfWork) -> None:
    await uow.session.execute(select(func.pg_advisory_xact_lock_shared(BLOBS_LOCK)))


async def own_blobs(uow: UnitOfWork) -> None:
    await uow.session.execute(select(func.pg_advisory_xact_lock(BLOBS_LOCK)))
