"""What a service knows of the identity service's groups: whether each may have nodes or
slices, and its quotas. Kept from ``identity.group.*`` events in a ``group_facts`` table of
the service's own schema, so a route decides without calling the identity service.

A service adds the table to its metadata and its migrations, and the consumer to its
subscriptions::

    groups = GroupFacts(metadata)
    ConsumerSpec(IDENTITY, "registry-groups", groups.handlers)

Events carry the group's whole state, so the last one applied holds (one durable consumer
applies them in stream order). A deleted group is kept as deleted: a late
``group.changed`` cannot bring it back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import Boolean, Column, DateTime, MetaData, String, Table, func, select
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.ext.asyncio import AsyncSession

from guificloud.db.uow import UnitOfWork
from guificloud.errors import Forbidden
from guificloud.events.envelope import Event
from guificloud.events.identity import GroupChanged, GroupCreated, GroupDeleted, Quotas

TABLE = "group_facts"


def define_group_facts_table(metadata: MetaData) -> Table:
    return Table(
        TABLE,
        metadata,
        Column("group_id", PgUUID(as_uuid=True), primary_key=True),
        Column("name", String(200), nullable=False),
        Column("allow_nodes", Boolean, nullable=False),
        Column("allow_slices", Boolean, nullable=False),
        Column("quotas", JSONB, nullable=False),
        Column("deleted", Boolean, nullable=False),
        Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


@dataclass(frozen=True)
class GroupFact:
    id: UUID
    name: str
    allow_nodes: bool
    allow_slices: bool
    quotas: Quotas


class GroupFacts:
    def __init__(self, metadata: MetaData) -> None:
        self.table = metadata.tables.get(TABLE) or define_group_facts_table(metadata)

    @property
    def handlers(self) -> Mapping[type[Event], Any]:
        return {
            GroupCreated: self.apply_created,
            GroupChanged: self.apply_changed,
            GroupDeleted: self.apply_deleted,
        }

    async def apply_created(self, event: GroupCreated, uow: UnitOfWork) -> None:
        await self._apply_state(event, uow)

    async def apply_changed(self, event: GroupChanged, uow: UnitOfWork) -> None:
        await self._apply_state(event, uow)

    async def _apply_state(self, event: GroupCreated | GroupChanged, uow: UnitOfWork) -> None:
        await self._upsert(
            uow,
            event.group_id,
            name=event.name,
            allow_nodes=event.allow_nodes,
            allow_slices=event.allow_slices,
            quotas=event.quotas.model_dump(),
            deleted=False,
        )

    async def apply_deleted(self, event: GroupDeleted, uow: UnitOfWork) -> None:
        await self._upsert(
            uow,
            event.group_id,
            name="",
            allow_nodes=False,
            allow_slices=False,
            quotas=Quotas().model_dump(),
            deleted=True,
        )

    async def _upsert(self, uow: UnitOfWork, group_id: UUID, **values: Any) -> None:
        t = self.table
        await uow.session.execute(
            insert(t)
            .values(group_id=group_id, **values)
            .on_conflict_do_update(
                index_elements=[t.c.group_id],
                set_={**values, "updated_at": func.now()},
                where=~t.c.deleted,
            )
        )

    async def get(self, session: AsyncSession, group_id: UUID) -> GroupFact | None:
        """The group as last heard of; None if unknown or deleted."""
        row = (
            await session.execute(select(self.table).where(self.table.c.group_id == group_id))
        ).first()
        return None if row is None or row.deleted else _fact(row)

    async def require(
        self, session: AsyncSession, group_id: UUID, *, lock: bool = False
    ) -> GroupFact:
        """The group, or 403 naming why it cannot be used. ``lock`` holds the row until the
        transaction ends: two requests checking one group's quota then run one after the
        other, so neither can over-commit it."""
        statement = select(self.table).where(self.table.c.group_id == group_id)
        if lock:
            statement = statement.with_for_update()
        row = (await session.execute(statement)).first()
        if row is None or row.deleted:
            raise Forbidden(f"group {group_id} is unknown to this service (or was deleted)")
        return _fact(row)


def _fact(row: Any) -> GroupFact:
    return GroupFact(
        id=row.group_id,
        name=row.name,
        allow_nodes=row.allow_nodes,
        allow_slices=row.allow_slices,
        quotas=Quotas.model_validate(row.quotas),
    )
