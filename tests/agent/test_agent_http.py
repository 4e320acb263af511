"""The agents' shared HTTP client lets a bounded number of requests in, and always lets the
next one in: after a full read, an early close, or an error."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from guificloud.devservers.ports import free_port
from guificloud_agent.httpclient import http_client
from tests.agent.agent_peer import Peer

pytestmark = pytest.mark.integration


@pytest.fixture
def server() -> Iterator[Peer]:
    peer = Peer("nats://127.0.0.1:4222").start()  # only its blobs are used
    try:
        yield peer
    finally:
        peer.stop()


async def test_the_gate_is_released_however_a_request_ends(server: Peer) -> None:
    spec = server.put_blob(b"x" * 100_000)
    async with http_client(max_in_flight=1) as http:
        async with http.stream("GET", spec.url) as response:
            async for _ in response.aiter_bytes(1024):
                break  # closed early
        with pytest.raises(httpx.ConnectError):
            await http.get(f"http://127.0.0.1:{free_port()}/nothing")
        bodies = await asyncio.wait_for(
            asyncio.gather(*(http.get(spec.url) for _ in range(8))), timeout=15
        )
    assert all(b.status_code == 200 and len(b.content) == 100_000 for b in bodies)
