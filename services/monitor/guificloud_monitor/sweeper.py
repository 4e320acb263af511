"""The sweeper: declares overdue boxes offline and trims old heartbeat history.

Overdue rows are taken with ``FOR UPDATE SKIP LOCKED``: several monitor instances sweep at
once without taking the same box twice, and a box whose heartbeat batch is being written
right now is left to that batch. Each box that goes offline gets its transition and a
``monitor.box.offline`` event in the same transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import UTC, datetime
from typing import cast

from sqlalchemy import Table, func, select, update
from structlog.contextvars import bound_contextvars

from guificloud.db.uow import UnitOfWork
from guificloud.events.monitor import BoxOffline
from guificloud.failure_log import FailureLog
from guificloud.logging import get_logger
from guificloud_monitor.availability import OFFLINE, ONLINE, missed_intervals
from guificloud_monitor.models import AvailabilityTransition, Box
from guificloud_monitor.retention import trim_history
from guificloud_monitor.runtime import MonitorRuntime

log = get_logger(__name__)

SWEEP_LIMIT = 500
MIN_PAUSE_S = 0.05

boxes = cast(Table, Box.__table__)
transitions = cast(Table, AvailabilityTransition.__table__)


async def mark_overdue_offline(uow: UnitOfWork, now: datetime, *, limit: int = SWEEP_LIMIT) -> int:
    """Declare offline up to ``limit`` online boxes past their due time; returns how many."""
    overdue = (
        await uow.session.execute(
            select(boxes.c.box_id, boxes.c.last_seen, boxes.c.interval_s)
            .where(boxes.c.state == ONLINE, boxes.c.due_at < now)
            .order_by(boxes.c.due_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    ).all()
    if not overdue:
        return 0
    await uow.session.execute(
        update(boxes)
        .where(boxes.c.box_id.in_([row.box_id for row in overdue]))
        .values(state=OFFLINE, state_since=now)
    )
    await uow.session.execute(
        transitions.insert().values(
            [
                {"box_id": row.box_id, "from_state": ONLINE, "to_state": OFFLINE, "at": now}
                for row in overdue
            ]
        )
    )
    for row in overdue:
        missed = missed_intervals(now, row.last_seen, row.interval_s)
        uow.emit(BoxOffline(box_id=row.box_id, last_seen=row.last_seen, missed=missed))
    return len(overdue)


async def shortest_interval(uow: UnitOfWork) -> float | None:
    """The shortest heartbeat interval among online boxes: the sweeper's pace follows it."""
    stmt = select(func.min(boxes.c.interval_s)).where(boxes.c.state == ONLINE)
    value = (await uow.session.execute(stmt)).scalar()
    return float(value) if value is not None else None


async def sweep_once(runtime: MonitorRuntime) -> float | None:
    """One sweep over every overdue box; returns the shortest interval of the online boxes."""
    while True:
        async with runtime.uow() as uow:
            swept = await mark_overdue_offline(uow, datetime.now(UTC))
            shortest = await shortest_interval(uow)
            await uow.commit()
        for _subject, envelope in uow.committed:
            with bound_contextvars(correlation_id=envelope.correlation_id):
                log.info(
                    "box.offline",
                    box_id=envelope.data["box_id"],
                    last_seen=envelope.data["last_seen"],
                    missed=envelope.data["missed"],
                )
        if swept < SWEEP_LIMIT:
            return shortest


async def sweep_availability(runtime: MonitorRuntime, stop: asyncio.Event) -> None:
    """Background loop: sweep every quarter of the shortest heartbeat interval, at most
    every ``sweep_interval_s``; trim history every ``retention_interval_s``."""
    settings = runtime.settings
    next_trim = time.monotonic()
    failures = FailureLog(runtime.database.suspect)
    while not stop.is_set():
        pause = settings.sweep_interval_s
        try:
            shortest = await sweep_once(runtime)
            if shortest is not None:
                pause = min(pause, max(MIN_PAUSE_S, shortest / 4))
            if time.monotonic() >= next_trim:
                await trim_history(runtime, settings)
                next_trim = time.monotonic() + settings.retention_interval_s
        except Exception as exc:  # noqa: BLE001 - database away: sweep again later
            failures.failed("sweeper.failed", exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=pause)
