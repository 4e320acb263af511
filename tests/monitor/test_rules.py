"""The monitor's rules without servers: what a heartbeat must be, when a box is overdue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from uuid import uuid4

import pytest

from guificloud.errors import PermanentFailure
from guificloud.events.agent import Heartbeat
from guificloud.events.envelope import Envelope
from guificloud.events.monitor import BoxOnline
from guificloud_monitor.availability import due_at, missed_intervals
from guificloud_monitor.batches import latest_per_box, supersedes
from guificloud_monitor.heartbeats import ReceivedHeartbeat, parse
from guificloud_monitor.ingest import HeartbeatBuffer
from guificloud_monitor.runtime import IngestStats
from tests.monitor.boxes import heartbeat, heartbeat_bytes, metrics

pytestmark = pytest.mark.unit

NOW = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)


def received(hb: Heartbeat, at: datetime = NOW) -> ReceivedHeartbeat:
    return ReceivedHeartbeat(hb, at, "cid")


def test_a_good_heartbeat_parses() -> None:
    hb = heartbeat(uuid4(), 7, 5.0)
    item = parse(hb.subject(), heartbeat_bytes(hb), NOW)
    assert (item.heartbeat, item.received_at) == (hb, NOW)
    assert item.metrics["mem_used_mb"] == 1007


def on_own_subject(hb: Heartbeat) -> tuple[str, bytes]:
    return hb.subject(), heartbeat_bytes(hb)


NAN_LOAD = Heartbeat(
    box_id=uuid4(),
    seq=1,
    interval_s=5,
    sent_at=NOW,
    metrics=metrics(1).model_copy(update={"load1": float("nan")}),
)
NOT_A_HEARTBEAT = Envelope.wrap(BoxOnline(box_id=uuid4(), last_seen=NOW), source="intruder")


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ((f"agent.{uuid4()}.heartbeat", b"\x00garbage"), "malformed envelope"),
        (
            (f"agent.{uuid4()}.heartbeat", NOT_A_HEARTBEAT.model_dump_json().encode()),
            "is not one of monitor.box.online",
        ),
        (
            (f"agent.{uuid4()}.heartbeat", heartbeat_bytes(heartbeat(uuid4(), 1, 5.0))),
            "names box",
        ),
        (on_own_subject(heartbeat(uuid4(), 1, 0.0)), "interval_s"),
        (on_own_subject(heartbeat(uuid4(), 1, float("inf"))), "interval_s"),
        (on_own_subject(heartbeat(uuid4(), 1, 2 * 86_400.0)), "interval_s"),
        (on_own_subject(heartbeat(uuid4(), -1, 5.0)), "seq"),
        (on_own_subject(NAN_LOAD), "metrics.load1"),
    ],
)
def test_a_bad_heartbeat_is_refused_with_its_reason(
    message: tuple[str, bytes], reason: str
) -> None:
    with pytest.raises(PermanentFailure, match=reason):
        parse(*message, NOW)


def test_missed_intervals_and_due_time() -> None:
    assert missed_intervals(NOW + timedelta(seconds=3.1), NOW, 1.0) == 3
    assert missed_intervals(NOW + timedelta(seconds=2.9), NOW, 1.0) == 2
    assert missed_intervals(NOW - timedelta(seconds=1), NOW, 1.0) == 0
    assert due_at(NOW, 5.0, 3, grace_s=0.2) == NOW + timedelta(seconds=15.2)


def test_a_heartbeat_supersedes_the_recorded_one_when_it_is_later() -> None:
    box_id = uuid4()
    row = SimpleNamespace(sent_at=NOW, seq=10, last_seen=NOW, interval_s=5.0)
    older = heartbeat(box_id, 9, 5.0, NOW - timedelta(seconds=5))
    assert not supersedes(received(older, NOW + timedelta(seconds=1)), row)
    assert supersedes(received(heartbeat(box_id, 11, 5.0, NOW + timedelta(seconds=5))), row)
    restarted = heartbeat(box_id, 1, 5.0, NOW + timedelta(seconds=5))
    assert supersedes(received(restarted), row)
    clock_back = heartbeat(box_id, 11, 5.0, NOW - timedelta(days=1))
    assert supersedes(received(clock_back), row)
    both_back = heartbeat(box_id, 1, 5.0, NOW - timedelta(days=1))
    assert supersedes(received(both_back, NOW + timedelta(seconds=6)), row)
    assert supersedes(
        received(older), SimpleNamespace(sent_at=None, seq=None, last_seen=None, interval_s=None)
    )


def test_the_last_heartbeat_of_each_box_in_a_batch_wins() -> None:
    a, b = uuid4(), uuid4()
    batch = [
        received(heartbeat(a, 1, 5.0)),
        received(heartbeat(b, 1, 5.0)),
        received(heartbeat(a, 2, 5.0)),
    ]
    latest = latest_per_box(batch)
    assert {k: v.heartbeat.seq for k, v in latest.items()} == {a: 2, b: 1}


def test_the_buffer_drops_the_oldest_beyond_its_limit_and_keeps_failed_batches_first() -> None:
    stats = IngestStats()
    buffer = HeartbeatBuffer(3, stats)
    items = [received(heartbeat(uuid4(), i, 5.0)) for i in range(5)]
    for item in items[:3]:
        buffer.append(item)
    batch = buffer.take(2)
    buffer.append(items[3])
    buffer.put_back(batch)
    assert stats.dropped == 1 and stats.pending == 3
    assert buffer.take(10) == [items[1], items[2], items[3]]
