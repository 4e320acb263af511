"""Trimming heartbeat history older than ``heartbeat_retention_s``, in bounded batches.

Each batch is its own short transaction, so trimming a large backlog never holds locks for
long; rows are picked with ``SKIP LOCKED`` so several instances can trim at once.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import cast

from sqlalchemy import Table, delete, select, tuple_

from guificloud.logging import get_logger
from guificloud_monitor.models import HeartbeatRecord
from guificloud_monitor.runtime import MonitorRuntime
from guificloud_monitor.settings import MonitorSettings

log = get_logger(__name__)

MAX_ROUNDS = 20

history = cast(Table, HeartbeatRecord.__table__)


async def trim_history(runtime: MonitorRuntime, settings: MonitorSettings) -> int:
    """Delete history older than the retention, at most ``MAX_ROUNDS`` batches; returns rows."""
    cutoff = datetime.now(UTC) - timedelta(seconds=settings.heartbeat_retention_s)
    total = 0
    for _ in range(MAX_ROUNDS):
        picked = (
            select(history.c.box_id, history.c.sent_at)
            .where(history.c.received_at < cutoff)
            .limit(settings.retention_batch)
            .with_for_update(skip_locked=True)
        )
        async with runtime.uow() as uow:
            result = await uow.session.execute(
                delete(history).where(tuple_(history.c.box_id, history.c.sent_at).in_(picked))
            )
            await uow.commit()
        deleted = int(getattr(result, "rowcount", 0) or 0)
        total += deleted
        if deleted < settings.retention_batch:
            break
    if total:
        log.info("heartbeats.trimmed", rows=total, before=cutoff.isoformat())
    return total
