"""Fixtures of the agent's tests: the HTTP peer, a bus with the agent streams, report readers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import pytest
import pytest_asyncio

from guificloud.boxes import BoxConfig
from guificloud.bus import Bus
from guificloud.streams import AGENTS, BOXES
from tests.agent.agent_helpers import Reports
from tests.agent.agent_peer import Peer


@pytest.fixture
def peer(nats_url: str) -> Iterator[Peer]:
    server = Peer(nats_url).start()
    try:
        yield server
    finally:
        server.stop()


@pytest_asyncio.fixture
async def bus(nats_url: str) -> AsyncIterator[Bus]:
    """A test's own connection; declares the streams the provisioner owns."""
    connection = await Bus.connect(nats_url, name="agent-tests")
    await connection.declare((AGENTS, BOXES))
    try:
        yield connection
    finally:
        await connection.close()


@pytest_asyncio.fixture
async def reports(bus: Bus) -> Callable[[BoxConfig], Awaitable[Reports]]:
    async def watch(config: BoxConfig) -> Reports:
        sub = await bus.js.subscribe(f"agent.{config.box_id}.reported", ordered_consumer=True)
        return Reports(sub)

    return watch
