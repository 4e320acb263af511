"""The heartbeat ingest loop: core NATS in, batched transactions out.

Heartbeats come over core NATS (telemetry, not stored by the bus) to a queue group, so
several monitor instances share them. Each message is decoded and checked as it arrives; a
refused one is counted and logged, never fatal. Accepted ones wait in memory and are written
every ``batch_interval_s``, or as soon as ``batch_max`` wait, in one transaction per batch.
While the database is away they are kept, up to ``buffer_max`` (the oldest dropped beyond).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime

from nats.aio.msg import Msg
from structlog.contextvars import bound_contextvars

from guificloud.errors import PermanentFailure
from guificloud.logging import get_logger
from guificloud.streams import HEARTBEAT_SUBJECTS
from guificloud_monitor.batches import record_batch
from guificloud_monitor.heartbeats import ReceivedHeartbeat, parse
from guificloud_monitor.runtime import IngestStats, MonitorRuntime
from guificloud_monitor.settings import MonitorSettings

log = get_logger(__name__)


class HeartbeatBuffer:
    """Heartbeats waiting for the next flush, bounded: the oldest go first when full."""

    def __init__(self, limit: int, stats: IngestStats) -> None:
        self._items: deque[ReceivedHeartbeat] = deque()
        self._limit = limit
        self._stats = stats

    def __len__(self) -> int:
        return len(self._items)

    def append(self, item: ReceivedHeartbeat) -> None:
        self._items.append(item)
        self._trim()

    def take(self, n: int) -> list[ReceivedHeartbeat]:
        return [self._items.popleft() for _ in range(min(n, len(self._items)))]

    def put_back(self, items: Iterable[ReceivedHeartbeat]) -> None:
        """Return a batch that could not be written, ahead of what came since."""
        self._items.extendleft(reversed(list(items)))
        self._trim()

    def _trim(self) -> None:
        while len(self._items) > self._limit:
            self._items.popleft()
            self._stats.dropped += 1
        self._stats.pending = len(self._items)


async def flush(
    runtime: MonitorRuntime, buffer: HeartbeatBuffer, stats: IngestStats, settings: MonitorSettings
) -> bool:
    """Write what waits, ``batch_max`` at a time; False if the database refused (kept for later)."""
    while buffer:
        batch = buffer.take(settings.batch_max)
        try:
            async with runtime.uow() as uow:
                came_online = await record_batch(
                    uow,
                    batch,
                    offline_after_missed=settings.offline_after_missed,
                    grace_s=settings.batch_interval_s,
                )
                await uow.commit()
        except Exception as exc:  # noqa: BLE001 - database away: keep the heartbeats, retry
            buffer.put_back(batch)
            stats.failed_flushes += 1
            log.warning("heartbeats.flush_failed", error=str(exc), pending=len(buffer))
            return False
        stats.recorded += len(batch)
        stats.batches += 1
        stats.pending = len(buffer)
        for change in came_online:
            with bound_contextvars(correlation_id=change.item.correlation_id):
                log.info(
                    "box.online", box_id=str(change.item.heartbeat.box_id), previous=change.previous
                )
    return True


async def ingest_heartbeats(runtime: MonitorRuntime, stop: asyncio.Event) -> None:
    """Background loop: subscribe to every box's heartbeats and record them in batches."""
    settings = runtime.settings
    stats = runtime.resources.stats
    buffer = HeartbeatBuffer(settings.buffer_max, stats)
    full = asyncio.Event()

    async def on_message(msg: Msg) -> None:
        stats.received += 1
        try:
            item = parse(msg.subject, msg.data, datetime.now(UTC))
        except PermanentFailure as exc:
            stats.malformed += 1
            log.warning(
                "heartbeat.refused", subject=msg.subject, reason=str(exc), malformed=stats.malformed
            )
            return
        buffer.append(item)
        if len(buffer) >= settings.batch_max:
            full.set()

    nc = runtime.bus.nc
    sub = await nc.subscribe(HEARTBEAT_SUBJECTS, queue=settings.queue_group, cb=on_message)
    await nc.flush()
    log.info("heartbeats.subscribed", subject=HEARTBEAT_SUBJECTS, queue=settings.queue_group)
    backoff = settings.batch_interval_s
    try:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(full.wait(), timeout=settings.batch_interval_s)
            full.clear()
            if await flush(runtime, buffer, stats, settings):
                backoff = settings.batch_interval_s
                continue
            with contextlib.suppress(TimeoutError):  # database away: wait longer each time
                await asyncio.wait_for(stop.wait(), timeout=backoff)
            backoff = min(backoff * 2, 5.0)
    finally:
        with contextlib.suppress(Exception):
            drain: Callable[[], Awaitable[None]] = sub.drain  # nats-py leaves it untyped
            await drain()  # what the server already sent is still handled, then flushed
        with contextlib.suppress(Exception):
            await flush(runtime, buffer, stats, settings)
        log.info("heartbeats.stopped", **vars(stats))
