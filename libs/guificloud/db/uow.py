"""The unit of work: one transaction, the events it emits written to the outbox inside it.

After commit the events are handed to the outbox publisher at once (no polling delay on the
normal path); what a crash leaves behind, the relay publishes later.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType
from typing import Any, TypeVar
from uuid import UUID

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from guificloud.db.messaging import MessagingTables
from guificloud.errors import NotFound
from guificloud.events.envelope import Envelope, Event
from guificloud.failpoints import failpoint

AfterCommit = Callable[[Sequence[tuple[str, Envelope]]], Awaitable[None]]


M = TypeVar("M")


class UnitOfWork:
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        tables: MessagingTables,
        *,
        source: str,
        after_commit: AfterCommit | None = None,
        causation_id: str | None = None,
        correlation_id: str | None = None,
    ) -> None:
        self._factory = session_factory
        self._tables = tables
        self._source = source
        self._after_commit = after_commit
        self._causation_id = causation_id
        self._correlation_id = correlation_id
        self._pending: list[tuple[str, Envelope]] = []
        self._session: AsyncSession | None = None
        self.committed: list[tuple[str, Envelope]] = []

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("unit of work used outside 'async with'")
        return self._session

    async def get(self, model: type[M], key: Any, what: str, *, for_update: bool = False) -> M:
        """The row of ``model`` with primary key ``key``, or :class:`NotFound` ("<what> <key>
        not found", an HTTP 404) - the one way a service looks up what a request names."""
        row = await self.session.get(model, key, with_for_update=for_update)
        if row is None:
            raise NotFound(f"{what} {key} not found")
        return row

    async def __aenter__(self) -> UnitOfWork:
        self._session = self._factory()
        await self._session.begin()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._session is not None
        if self._session.in_transaction():
            await self._session.rollback()
        await self._session.close()
        self._session = None

    def emit(self, event: Event, *, correlation_id: str | None = None) -> Envelope:
        """Record an event to be written with this transaction.

        ``correlation_id`` puts the event in another flow than the one being handled (a
        box's onboarding, that an agent's report moves on); the cause is still the handled
        event."""
        envelope = Envelope.wrap(
            event,
            source=self._source,
            correlation_id=correlation_id or self._correlation_id,
            causation_id=self._causation_id,
        )
        self._pending.append((event.subject(), envelope))
        return envelope

    async def claim(self, consumer: str, event_id: UUID, event_type: str) -> bool:
        """Record that ``consumer`` handles ``event_id``; False if it already did."""
        stmt = (
            insert(self._tables.inbox)
            .values(consumer=consumer, event_id=event_id, event_type=event_type)
            .on_conflict_do_nothing()
            .returning(self._tables.inbox.c.event_id)
        )
        return (await self.session.execute(stmt)).first() is not None

    async def commit(self) -> None:
        if self._pending:
            await self.session.execute(
                insert(self._tables.outbox),
                [
                    {"id": env.id, "subject": subject, "envelope": env.model_dump(mode="json")}
                    for subject, env in self._pending
                ],
            )
        await self.session.commit()
        if self._pending:  # events committed, not yet published: where a crash tests the relay
            failpoint(f"{self._source}.committed_unpublished")
        self.committed, self._pending = self._pending, []
        if self.committed and self._after_commit is not None:
            await self._after_commit(self.committed)

    async def rollback(self) -> None:
        self._pending = []
        await self.session.rollback()
