"""Fixtures of the agent's tests: the HTTP peer, a bus with the agent streams, report readers,
and, for LXC tests, a static busybox once a real container has run on this host."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from guificloud.boxes import BoxConfig
from guificloud.bus import Bus
from guificloud.streams import AGENTS, BOXES
from tests.agent.agent_helpers import Reports
from tests.agent.agent_peer import Peer
from tests.agent.lxc_helpers import probe, static_busybox


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


@pytest_asyncio.fixture(scope="session")
async def busybox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The static busybox of the tiny images, once a container has really run here; every
    test that needs it is skipped with the reason where LXC cannot run containers."""
    reason = await probe(tmp_path_factory.mktemp("lxc-probe"))
    if reason is not None:
        print(f"\nLXC tests skipped: {reason}", file=sys.stderr)
        pytest.skip(reason)
    path, _ = static_busybox()
    assert path is not None
    return path
