"""A group's image quota (``Quotas.images``): how many of its images the store keeps.

An image counts from the moment its version is reserved (an upload session opened, or a
single-request upload being published) until it is deleted; deprecated images still count.
The check runs in the transaction that reserves or publishes, with the group's facts row
locked: two publishes for one group run one after the other, so the second sees the
first's image and the quota is never exceeded.
"""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import func, select

from guificloud.db.uow import UnitOfWork
from guificloud.errors import QuotaExceeded
from guificloud_imagestore.models import DELETED, Image, groups


async def ensure_image_quota(
    uow: UnitOfWork, group_id: UUID | None, *, counted: UUID | None = None
) -> None:
    """Room for one more image of ``group_id`` (403 if it is unknown, 409 if its quota is
    used up); ``counted``: an image of the group already reserved, being published now. Holds the
    group's row locked until the transaction ends. The deployment's images have no quota."""
    if group_id is None:
        return
    group = await groups.require(uow.session, group_id, lock=True)
    limit = group.quotas.images
    if limit is None:
        return
    stmt = select(func.count()).where(Image.group_id == group_id, Image.state != DELETED)
    if counted is not None:
        stmt = stmt.where(Image.id != counted)
    used = await uow.session.scalar(stmt) or 0
    if used >= limit:
        raise QuotaExceeded(group_id, "images", limit, used, 1)
