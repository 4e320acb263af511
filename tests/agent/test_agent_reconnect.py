"""Reports wait for the AGENTS stream and for NATS; every reconnect re-reports the state.

This test restarts NATS, so it runs its own NATS server (the same wheel as the session's)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from guificloud.boxes import BoxConfig
from guificloud.bus import Bus
from guificloud.devservers.nats import NatsServer
from guificloud.devservers.ports import free_port
from guificloud.streams import AGENTS
from tests.agent.agent_helpers import Reports, make_image, running_agent
from tests.agent.agent_peer import Peer

pytestmark = pytest.mark.integration


@pytest.fixture
def own_nats(tmp_path: Path) -> Iterator[NatsServer]:
    server = NatsServer(tmp_path / "nats", port=free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@asynccontextmanager
async def reading(url: str, config: BoxConfig) -> AsyncIterator[Reports]:
    bus = await Bus.connect(url, name="agent-tests")
    try:
        sub = await bus.js.subscribe(f"agent.{config.box_id}.reported", ordered_consumer=True)
        yield Reports(sub)
    finally:
        await bus.close()


async def test_reports_survive_a_missing_stream_and_a_nats_restart(
    own_nats: NatsServer, tmp_path: Path
) -> None:
    peer = Peer(own_nats.url).start()
    try:
        config = peer.add_box()
        spec = peer.put_blob(make_image(16 * 1024))
        peer.want(config.box_id, spec)
        async with running_agent(config, tmp_path / "cache") as agent:
            await asyncio.sleep(0.5)  # no AGENTS stream yet: reports wait
            assert agent.status is not None and agent.status.state == "running"
            admin = await Bus.connect(own_nats.url, name="provisioner")
            await admin.declare((AGENTS,))
            await admin.close()
            async with reading(own_nats.url, config) as watch:
                await watch.state("running")
            assert [s for s, _, _ in watch.changes()] == ["deploying", "running"]

            own_nats.stop()
            await asyncio.sleep(0.3)
            own_nats.start()
            before = len(watch.seen)
            async with reading(own_nats.url, config) as watch:
                await watch.until(lambda r: len(watch.seen) == before + 1, timeout_s=10)
        assert watch.seen[-1].state == "running", "the reconnected agent says where it is"
    finally:
        peer.stop()
