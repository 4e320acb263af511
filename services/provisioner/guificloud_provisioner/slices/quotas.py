"""A group's slivers, memory and disk within its quotas, also when two provisioner instances
place for the group at the same moment.

:func:`admit` locks the group's facts row before it counts what the group holds, and the
caller places in that same transaction: a second placement for the group waits on the row
until the first commits (or rolls back), then counts again. The group's row is locked
before any box (see :mod:`guificloud_provisioner.slices.locks`).

What a group holds: its slivers not being removed (a deleted slice's slivers stop counting
when its deletion starts, not when the boxes confirm it).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from uuid import UUID

from sqlalchemy import func, select

from guificloud.db.group_facts import GroupFact
from guificloud.db.uow import UnitOfWork
from guificloud.errors import Forbidden, QuotaExceeded
from guificloud_provisioner.models import group_facts
from guificloud_provisioner.slices.models import Slice, Sliver


@dataclass(frozen=True)
class Use:
    slivers: int
    memory_mb: int
    disk_mb: int

    @classmethod
    def of(cls, slivers: int, *, memory_mb: int, disk_mb: int) -> Use:
        """``slivers`` slivers of ``memory_mb`` and ``disk_mb`` each."""
        return cls(slivers, slivers * memory_mb, slivers * disk_mb)


async def held(uow: UnitOfWork, group: UUID) -> Use:
    slivers, memory, disk = (
        await uow.session.execute(
            select(
                func.count(Sliver.id),
                func.coalesce(func.sum(Sliver.memory_mb), 0),
                func.coalesce(func.sum(Sliver.disk_mb), 0),
            )
            .join(Slice, Slice.id == Sliver.slice_id)
            .where(Slice.group_id == group, Sliver.removing.is_(False))
        )
    ).one()
    return Use(int(slivers), int(memory), int(disk))


async def admit(uow: UnitOfWork, group: UUID, asked: Use) -> GroupFact:
    """The group, locked until the transaction ends, once it is known to allow slices and
    to have room for ``asked``: else 403 (no slices for it) or :class:`QuotaExceeded`."""
    fact = await group_facts.require(uow.session, group, lock=True)
    if not fact.allow_slices:
        raise Forbidden(
            f"group {group} may not have slices (allow_slices is off: operators decide)"
        )
    used = await held(uow, group)
    limits = fact.quotas
    for name, more in asdict(asked).items():
        limit: int | None = getattr(limits, name)
        now: int = getattr(used, name)
        if limit is not None and now + more > limit:
            raise QuotaExceeded(group, name, limit, now, more)
    return fact
