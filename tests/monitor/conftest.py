"""The monitor as a real process on the session's NATS and a fresh database per test."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import nats
import pytest_asyncio
from nats.aio.client import Client

from guificloud.testing.processes import ServiceProcess
from tests.monitor.observe import MonitorApi

StartMonitor = Callable[..., Awaitable[ServiceProcess]]


@pytest_asyncio.fixture
async def start_monitor(
    database_url: str, nats_url: str, tmp_path: Path
) -> AsyncIterator[StartMonitor]:
    """Start monitor instances (extra ``GUIFICLOUD_MONITOR_*`` settings as keywords)."""
    started: list[ServiceProcess] = []

    async def start(**settings: str) -> ServiceProcess:
        index = len(started)
        log_dir = tmp_path / f"monitor-{index}"
        log_dir.mkdir()
        env = {
            "GUIFICLOUD_DATABASE_URL": database_url,
            "GUIFICLOUD_NATS_URL": nats_url,
            "GUIFICLOUD_DATA_DIR": str(tmp_path),
            **{f"GUIFICLOUD_MONITOR_{k.upper()}": v for k, v in settings.items()},
        }
        process = ServiceProcess("guificloud_monitor", env=env, log_dir=log_dir)
        started.append(process)
        await asyncio.to_thread(process.start)
        return process

    yield start
    for process in reversed(started):
        await asyncio.to_thread(process.stop)


@pytest_asyncio.fixture
async def monitor(start_monitor: StartMonitor) -> ServiceProcess:
    return await start_monitor()


@pytest_asyncio.fixture
async def api(monitor: ServiceProcess) -> AsyncIterator[MonitorApi]:
    async with httpx.AsyncClient(base_url=monitor.url, timeout=10.0) as http:
        yield MonitorApi(http)


@pytest_asyncio.fixture
async def nc(nats_url: str) -> AsyncIterator[Client]:
    client = await nats.connect(nats_url)
    yield client
    await client.close()
