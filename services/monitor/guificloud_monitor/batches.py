"""Recording a batch of heartbeats in one transaction, a fixed number of statements per batch.

Rows of the batch's boxes are created if missing, then locked in box id order (the same
order in every monitor instance, so two instances never deadlock), so the previous state of
each box is known exactly; boxes that were not online come online in the same transaction,
with their transition and a ``monitor.box.online`` event in the outbox.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast
from uuid import UUID

from sqlalchemy import Table, select
from sqlalchemy.dialects.postgresql import insert
from structlog.contextvars import bound_contextvars

from guificloud.db.uow import UnitOfWork
from guificloud.events.monitor import BoxOnline
from guificloud_monitor.availability import ONLINE, UNKNOWN, due_at
from guificloud_monitor.heartbeats import ReceivedHeartbeat
from guificloud_monitor.models import AvailabilityTransition, Box, HeartbeatRecord

boxes = cast(Table, Box.__table__)
transitions = cast(Table, AvailabilityTransition.__table__)
history = cast(Table, HeartbeatRecord.__table__)


@dataclass(frozen=True)
class CameOnline:
    item: ReceivedHeartbeat
    previous: str


def latest_per_box(batch: Sequence[ReceivedHeartbeat]) -> dict[UUID, ReceivedHeartbeat]:
    """The last heartbeat received from each box: it carries the box's current metrics."""
    latest: dict[UUID, ReceivedHeartbeat] = {}
    for item in batch:
        latest[item.heartbeat.box_id] = item
    return latest


def supersedes(item: ReceivedHeartbeat, row: Any) -> bool:
    """Whether ``item`` is later than the heartbeat recorded in ``row``.

    Instances of the monitor receive a box's heartbeats in parallel, so the order of arrival
    is not the order of sending. A heartbeat is later if it was sent later or has a higher
    sequence number (its agent's clock may have jumped back, or the agent restarted and
    counts from 1 again), or if it came more than an interval after the recorded one.
    """
    if row.sent_at is None or row.seq is None or row.last_seen is None:
        return True
    hb = item.heartbeat
    return (
        item.sent_at > row.sent_at
        or hb.seq > row.seq
        or item.received_at > due_at(row.last_seen, row.interval_s or 0.0, 1)
    )


def _heartbeat_values(item: ReceivedHeartbeat) -> dict[str, Any]:
    hb = item.heartbeat
    return {
        "seq": hb.seq,
        "sent_at": item.sent_at,
        "interval_s": hb.interval_s,
        "metrics": item.metrics,
    }


async def record_batch(
    uow: UnitOfWork,
    batch: Sequence[ReceivedHeartbeat],
    *,
    offline_after_missed: int,
    grace_s: float = 0.0,
) -> list[CameOnline]:
    """Upsert availability, store history, bring boxes online; the caller commits."""
    if not batch:
        return []
    latest = latest_per_box(batch)
    ids = sorted(latest)
    now = datetime.now(UTC)
    session = uow.session
    await session.execute(
        insert(boxes)
        .values([{"box_id": box_id, "state": UNKNOWN, "state_since": now} for box_id in ids])
        .on_conflict_do_nothing(index_elements=[boxes.c.box_id])
    )
    previous = (
        await session.execute(
            select(
                boxes.c.box_id,
                boxes.c.state,
                boxes.c.state_since,
                boxes.c.last_seen,
                boxes.c.seq,
                boxes.c.sent_at,
                boxes.c.interval_s,
                boxes.c.metrics,
            )
            .where(boxes.c.box_id.in_(ids))
            .order_by(boxes.c.box_id)
            .with_for_update()
        )
    ).all()

    updates: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    came_online: list[CameOnline] = []
    for row in previous:
        item = latest[row.box_id]
        was_online = row.state == ONLINE
        latest_values = (
            _heartbeat_values(item)
            if supersedes(item, row)
            else {
                "seq": row.seq,
                "sent_at": row.sent_at,
                "interval_s": row.interval_s,
                "metrics": row.metrics,
            }
        )  # another instance already recorded a later heartbeat of this box
        last_seen = max(item.received_at, row.last_seen or item.received_at)
        updates.append(
            {
                "box_id": row.box_id,
                "state": ONLINE,
                "state_since": row.state_since if was_online else item.received_at,
                "last_seen": last_seen,
                "due_at": due_at(
                    last_seen, latest_values["interval_s"], offline_after_missed, grace_s
                ),
                **latest_values,
            }
        )
        if not was_online:
            changes.append(
                {
                    "box_id": row.box_id,
                    "from_state": row.state,
                    "to_state": ONLINE,
                    "at": item.received_at,
                }
            )
            came_online.append(CameOnline(item, row.state))

    if updates:
        upsert = insert(boxes).values(updates)
        await session.execute(
            upsert.on_conflict_do_update(
                index_elements=[boxes.c.box_id],
                set_={name: upsert.excluded[name] for name in updates[0] if name != "box_id"},
            )
        )
    if changes:
        await session.execute(insert(transitions).values(changes))
    await session.execute(
        insert(history)
        .values(
            [
                {
                    "box_id": item.heartbeat.box_id,
                    "sent_at": item.sent_at,
                    "seq": item.heartbeat.seq,
                    "received_at": item.received_at,
                    "metrics": item.metrics,
                }
                for item in batch
            ]
        )
        .on_conflict_do_nothing(index_elements=[history.c.box_id, history.c.sent_at])
    )
    for change in came_online:
        with bound_contextvars(correlation_id=change.item.correlation_id):
            uow.emit(
                BoxOnline(box_id=change.item.heartbeat.box_id, last_seen=change.item.received_at)
            )
    return came_online
