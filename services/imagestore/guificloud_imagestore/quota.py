"""A group's image quota (``Quotas.images``): how many of its images the store keeps.

An image counts from the moment its version is reserved (an upload session opened, or a
single-request upload being published) until it is deleted; deprecated images still count.
The check runs in the transaction that reserves or publishes, with the group's facts row
locked: two publishes for one group run one after the other, so the second sees the
first's image and the quota is never exceeded.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import func, select

from guificloud.db.uow import UnitOfWork
from guificloud.errors import Forbidden
from guificloud_imagestore.models import DELETED, Image, groups


class QuotaExceeded(Forbidden):
    def __init__(self, group_id: UUID, limit: int, used: int) -> None:
        super().__init__(
            f"group {group_id} has used its image quota: {used} of {limit} images; delete "
            "some of its images (or cancel their uploads), or ask an operator for more"
        )
        self.limit, self.used = limit, used

    def details(self) -> dict[str, Any]:
        return {"quota": "images", "limit": self.limit, "used": self.used}


async def ensure_image_quota(
    uow: UnitOfWork, group_id: UUID | None, *, counted: UUID | None = None
) -> None:
    """Room for one more image of ``group_id`` (403 if it is unknown or its quota is used
    up); ``counted``: an image of the group already reserved, being published now. Holds the
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
        raise QuotaExceeded(group_id, limit, used)
