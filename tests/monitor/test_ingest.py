"""The heartbeat ingest: refuses bad messages without stopping; instances share the load."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from uuid import uuid4

import httpx
import pytest
from nats.aio.client import Client

from guificloud.events.envelope import Envelope
from guificloud.events.monitor import BoxOnline
from guificloud.testing.processes import ServiceProcess
from tests.monitor.boxes import HeartbeatSender, heartbeat, heartbeat_bytes
from tests.monitor.conftest import StartMonitor
from tests.monitor.observe import MonitorApi, monitor_events, wait_until

pytestmark = pytest.mark.integration


async def test_refused_heartbeats_are_counted_and_the_next_good_one_is_recorded(
    monitor: ServiceProcess, api: MonitorApi, nc: Client
) -> None:
    box_id, other_id = uuid4(), uuid4()
    subject = f"agent.{box_id}.heartbeat"
    not_a_heartbeat = Envelope.wrap(
        BoxOnline(box_id=box_id, last_seen=datetime.now(UTC)), source="intruder"
    )
    bad = [
        b"\x00\xffgarbage, not even JSON",
        b'{"id": "not-a-uuid"}',
        not_a_heartbeat.model_dump_json().encode(),
        heartbeat_bytes(heartbeat(other_id, 1, 1.0)),  # another box's heartbeat on this subject
        heartbeat_bytes(heartbeat(box_id, 1, -1.0)),  # a negative interval
    ]
    for body in bad:
        await nc.publish(subject, body)
    agent = HeartbeatSender(nc, box_id, 5.0)
    await agent.send()

    box = await api.wait_state(box_id, "online")
    assert box["seq"] == agent.seq
    stats = await api.get("/ingest")
    assert stats["malformed"] == len(bad)
    assert stats["received"] == len(bad) + 1
    assert stats["recorded"] == 1
    assert await api.box(other_id) is None
    assert monitor.process is not None and monitor.process.poll() is None
    assert monitor.tail(200).count('"heartbeat.refused"') == len(bad)


async def test_two_instances_share_the_heartbeats_and_agree_on_availability(
    start_monitor: StartMonitor, nc: Client
) -> None:
    instances = [await start_monitor(), await start_monitor()]
    agents = [HeartbeatSender(nc, uuid4(), 5.0) for _ in range(6)]
    for _ in range(2):
        for agent in agents:
            await agent.burst(5)
    sent = 2 * 5 * len(agents)

    async with (
        httpx.AsyncClient(base_url=instances[0].url, timeout=10.0) as http0,
        httpx.AsyncClient(base_url=instances[1].url, timeout=10.0) as http1,
    ):
        apis = [MonitorApi(http0), MonitorApi(http1)]

        async def all_recorded() -> bool:
            stats = [await a.get("/ingest") for a in apis]
            return sum(s["recorded"] for s in stats) == sent

        await wait_until(all_recorded, what=f"{sent} heartbeats recorded")
        stats = [await a.get("/ingest") for a in apis]
        assert sum(s["received"] for s in stats) == sent  # each heartbeat to one instance only
        assert all(s["received"] > 0 for s in stats), stats
        for agent in agents:
            box = await apis[1].box(agent.box_id)
            assert box is not None and agent.last is not None
            assert (box["state"], box["seq"]) == ("online", agent.last.seq)
            history = await apis[0].get(f"/boxes/{agent.box_id}/heartbeats")
            assert [h["seq"] for h in history] == list(range(10, 0, -1))
            transitions = await apis[0].get(f"/boxes/{agent.box_id}/transitions")
            assert [(t["from_state"], t["to_state"]) for t in transitions] == [
                ("unknown", "online")
            ]

    async def one_online_event_per_box() -> Counter[str] | None:
        counts = Counter(
            e.data["box_id"] for e in await monitor_events(nc) if e.type == "monitor.box.online"
        )
        return counts if len(counts) == len(agents) else None

    counts = await wait_until(one_online_event_per_box, what="an online event for every box")
    assert set(counts.values()) == {1}
