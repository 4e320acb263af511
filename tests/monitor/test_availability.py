"""A box's availability from its heartbeats: online, offline after missed intervals, back."""

from __future__ import annotations

from datetime import datetime
from uuid import uuid4

import pytest
from nats.aio.client import Client

from tests.monitor.boxes import HeartbeatSender, heartbeat_bytes
from tests.monitor.observe import MonitorApi, wait_events, wait_until

pytestmark = pytest.mark.integration

INTERVAL_S = 0.25


async def test_online_offline_and_back_with_events_and_history(api: MonitorApi, nc: Client) -> None:
    box_id = uuid4()
    agent = HeartbeatSender(nc, box_id, INTERVAL_S).start()

    box = await api.wait_state(box_id, "online")
    assert box["interval_s"] == INTERVAL_S
    assert box["node_id"] is None and box["zone_id"] is None  # never registered
    (online,) = await wait_events(nc, box_id, ["monitor.box.online"])
    assert online.source == "monitor"

    async def beating_for_a_while() -> bool:
        box = await api.box(box_id)
        return box is not None and box["seq"] >= 4 and box["state"] == "online"

    await wait_until(beating_for_a_while, what="four heartbeats recorded, still online")

    await agent.stop()
    assert agent.last is not None
    box = await api.wait_state(box_id, "offline")
    assert box["seq"] == agent.last.seq
    assert box["metrics"] == agent.last.metrics.model_dump(mode="json")
    events = await wait_events(nc, box_id, ["monitor.box.online", "monitor.box.offline"])
    offline = events[1].data
    assert offline["missed"] >= 3
    assert datetime.fromisoformat(offline["last_seen"]) == datetime.fromisoformat(box["last_seen"])

    agent.start()
    await api.wait_state(box_id, "online")
    await wait_events(
        nc, box_id, ["monitor.box.online", "monitor.box.offline", "monitor.box.online"]
    )
    await agent.stop()

    async def last_recorded() -> bool:
        box = await api.box(box_id)
        return box is not None and box["seq"] == agent.seq

    await wait_until(last_recorded, what="the last heartbeat recorded")
    transitions = await api.get(f"/boxes/{box_id}/transitions")
    assert [(t["from_state"], t["to_state"]) for t in transitions] == [
        ("unknown", "online"),
        ("online", "offline"),
        ("offline", "online"),
    ]
    moments = [datetime.fromisoformat(t["at"]) for t in transitions]
    assert moments == sorted(moments)

    history = await api.get(f"/boxes/{box_id}/heartbeats", limit=3)
    assert len(history) == 3
    assert [h["seq"] for h in history] == [agent.seq, agent.seq - 1, agent.seq - 2]
    assert history[0]["metrics"]["mem_used_mb"] == 1000 + history[0]["seq"]


async def test_latest_metrics_follow_the_latest_heartbeat_and_repeats_count_once(
    api: MonitorApi, nc: Client
) -> None:
    box_id = uuid4()
    agent = HeartbeatSender(nc, box_id, 5.0)
    await agent.burst(5)

    async def latest_seq() -> bool:
        box = await api.box(box_id)
        return box is not None and box["seq"] == 5

    await wait_until(latest_seq, what="seq 5 recorded")
    assert agent.last is not None
    await nc.publish(agent.last.subject(), heartbeat_bytes(agent.last))  # the same one again

    async def six_recorded() -> bool:
        return bool((await api.get("/ingest"))["recorded"] == 6)

    await wait_until(six_recorded, what="the repeated heartbeat recorded")
    box = await api.box(box_id)
    assert box is not None and agent.last is not None
    assert box["state"] == "online"
    assert box["metrics"] == agent.last.metrics.model_dump(mode="json")
    history = await api.get(f"/boxes/{box_id}/heartbeats")
    assert [h["seq"] for h in history] == [5, 4, 3, 2, 1]
    transitions = await api.get(f"/boxes/{box_id}/transitions")
    assert [(t["from_state"], t["to_state"]) for t in transitions] == [("unknown", "online")]
