"""Publishing the outbox: right after commit, and a relay for what a crash left behind.

With NATS or the database away, the relay keeps trying every second and logs one line per
kind of failure and ten seconds (``count=``); nothing in the outbox is ever given up.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from uuid import UUID

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from guificloud.bus.connection import Bus
from guificloud.db.messaging import MessagingTables
from guificloud.events.envelope import Envelope
from guificloud.failure_log import FailureLog
from guificloud.logging import get_logger

log = get_logger(__name__)


class OutboxPublisher:
    def __init__(
        self,
        bus: Bus,
        session_factory: async_sessionmaker[AsyncSession],
        tables: MessagingTables,
        *,
        relay_interval_s: float = 1.0,
        relay_grace_s: float = 2.0,
        suspect: Callable[[BaseException], None] | None = None,
    ) -> None:
        """``suspect`` is told of each transient failure (the runtime's database watch)."""
        self._bus = bus
        self._factory = session_factory
        self._tables = tables
        self._interval = relay_interval_s
        self._grace = relay_grace_s
        self._lock = asyncio.Lock()
        self._published: list[UUID] = []
        self._flusher: asyncio.Task[None] | None = None
        self._delete_delay_s = 0.05
        self._failures = FailureLog(suspect)

    async def publish_committed(self, events: Sequence[tuple[str, Envelope]]) -> None:
        """Called by the unit of work after commit; failures are left to the relay.

        The published rows are deleted in batches a moment later: should a crash come first,
        the relay publishes them again, and ``Nats-Msg-Id`` and the consumers' inbox make
        that second copy harmless. With NATS away nothing is tried: a publish would hold the
        request until its timeout, and the relay publishes the rows once NATS is back."""
        if not self._bus.connected:
            return
        try:
            await asyncio.gather(*(self._bus.publish(s, env) for s, env in events))
        except Exception as exc:  # noqa: BLE001 - the relay retries
            self._failures.failed("outbox.publish_deferred", exc, events=len(events))
            return
        self._published.extend(env.id for _, env in events)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._delete_published())

    async def _delete_published(self) -> None:
        await asyncio.sleep(self._delete_delay_s)
        while self._published:
            ids, self._published = self._published, []
            try:
                async with self._factory() as session, session.begin():
                    await session.execute(
                        delete(self._tables.outbox).where(self._tables.outbox.c.id.in_(ids))
                    )
            except Exception as exc:  # noqa: BLE001 - the relay will publish and delete them
                self._failures.failed("outbox.delete_failed", exc, events=len(ids))

    async def flush(self) -> None:
        """Delete what has been published (on shutdown, and in tests)."""
        if self._flusher is not None:
            await self._flusher

    async def relay_once(self, *, grace_s: float | None = None, limit: int = 500) -> int:
        """Publish rows older than the grace period, oldest first; returns how many."""
        cutoff = datetime.now(UTC) - timedelta(seconds=self._grace if grace_s is None else grace_s)
        table = self._tables.outbox
        async with self._lock, self._factory() as session, session.begin():
            rows = (
                await session.execute(
                    select(table.c.seq, table.c.subject, table.c.envelope)
                    .where(table.c.created_at <= cutoff)
                    .order_by(table.c.seq)
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            for row in rows:
                await self._bus.publish(row.subject, Envelope.model_validate(row.envelope))
            if rows:
                await session.execute(delete(table).where(table.c.seq.in_([r.seq for r in rows])))
                log.info("outbox.relayed", events=len(rows))
            return len(rows)

    async def run_relay(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                if self._bus.connected:  # else each pass would wait out a publish timeout
                    await self.relay_once()
            except Exception as exc:  # noqa: BLE001 - keep relaying
                self._failures.failed("outbox.relay_failed", exc)
            try:
                await asyncio.wait_for(stop.wait(), timeout=self._interval)
            except TimeoutError:
                pass
        await self.flush()
