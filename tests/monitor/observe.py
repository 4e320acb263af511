"""What the tests read back: the monitor's API and the events in its stream, with deadlines."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from uuid import UUID

import httpx
from nats.aio.client import Client
from nats.js.errors import NotFoundError

from guificloud.events.envelope import Envelope
from guificloud.streams import MONITOR

T = TypeVar("T")


async def wait_until(
    probe: Callable[[], Awaitable[T | None]], *, timeout_s: float = 15.0, what: str = "condition"
) -> T:
    """Poll ``probe`` until it returns something truthy; fail with the last value seen."""
    deadline = time.monotonic() + timeout_s
    last: T | None = None
    while time.monotonic() < deadline:
        last = await probe()
        if last:
            return last
        await asyncio.sleep(0.05)
    raise AssertionError(f"{what} not reached within {timeout_s}s; last: {last!r}")


class MonitorApi:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def box(self, box_id: UUID) -> dict[str, Any] | None:
        response = await self.http.get(f"/api/v1/boxes/{box_id}")
        return dict(response.json()) if response.status_code == 200 else None

    async def wait_state(self, box_id: UUID, state: str, timeout_s: float = 15.0) -> dict[str, Any]:
        async def probe() -> dict[str, Any] | None:
            box = await self.box(box_id)
            return box if box is not None and box["state"] == state else None

        return await wait_until(probe, timeout_s=timeout_s, what=f"box {box_id} {state}")

    async def get(self, path: str, **params: Any) -> Any:
        response = await self.http.get(f"/api/v1{path}", params=params)
        assert response.status_code == 200, response.text
        return response.json()


async def monitor_events(nc: Client, box_id: UUID | None = None) -> list[Envelope]:
    """Every event stored in the MONITOR stream (of one box if given), oldest first."""
    js = nc.jetstream()
    try:
        info = await js.stream_info(MONITOR.name)
    except NotFoundError:
        return []
    out = []
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        if info.state.messages == 0:
            break
        msg = await js.get_msg(MONITOR.name, seq)
        envelope = Envelope.model_validate_json(msg.data or b"")
        if box_id is None or envelope.data.get("box_id") == str(box_id):
            out.append(envelope)
    return out


async def wait_events(
    nc: Client, box_id: UUID, types: list[str], timeout_s: float = 15.0
) -> list[Envelope]:
    """Wait until the box's events in MONITOR are exactly ``types``, in that order."""

    async def probe() -> list[Envelope] | None:
        events = await monitor_events(nc, box_id)
        return events if [e.type for e in events] == types else None

    return await wait_until(probe, timeout_s=timeout_s, what=f"events {types} of {box_id}")
