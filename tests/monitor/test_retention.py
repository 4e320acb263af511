"""Heartbeat history older than the retention is deleted, in bounded batches."""

from __future__ import annotations

from collections.abc import Awaitable
from uuid import uuid4

import httpx
import pytest
from nats.aio.client import Client

from tests.monitor.boxes import HeartbeatSender
from tests.monitor.conftest import StartMonitor
from tests.monitor.observe import MonitorApi, wait_until

pytestmark = pytest.mark.integration


async def is_zero(size: Awaitable[int | None]) -> bool:
    return await size == 0


async def test_old_history_is_trimmed_and_the_box_kept(
    start_monitor: StartMonitor, nc: Client
) -> None:
    monitor = await start_monitor(
        heartbeat_retention_s="1", retention_interval_s="0.2", retention_batch="3"
    )
    async with httpx.AsyncClient(base_url=monitor.url, timeout=10.0) as http:
        api = MonitorApi(http)
        agent = HeartbeatSender(nc, uuid4(), 60.0)
        await agent.burst(10)

        async def history_size() -> int | None:
            response = await http.get(f"/api/v1/boxes/{agent.box_id}/heartbeats")
            return len(response.json()) if response.status_code == 200 else None

        await wait_until(history_size, what="heartbeats in history")
        await wait_until(lambda: is_zero(history_size()), what="history trimmed")
        box = await api.box(agent.box_id)
        assert box is not None and agent.last is not None
        assert (box["state"], box["seq"]) == ("online", agent.last.seq)
    assert '"heartbeats.trimmed"' in monitor.tail(200)
