"""Requests during a real database outage: 503 with Retry-After, not ready, and the log
stays readable (one line per kind of failure, the outage's start and end once each)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from sqlalchemy.engine import make_url
from structlog.testing import capture_logs

from tests.libs.messaging_support import eventually, via_port
from tests.libs.served import Served, served_registry
from tests.libs.tcp_proxy import TcpProxy

pytestmark = pytest.mark.integration


@pytest_asyncio.fixture
async def proxy(database_url: str) -> AsyncIterator[TcpProxy]:
    url = make_url(database_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    yield proxy
    await proxy.stop()


@pytest_asyncio.fixture
async def served(database_url: str, nats_url: str, proxy: TcpProxy) -> AsyncIterator[Served]:
    async with served_registry(via_port(database_url, proxy.port), nats_url) as served:
        yield served


async def test_a_database_outage_is_503_with_retry_after_and_not_ready(
    served: Served, proxy: TcpProxy
) -> None:
    http = served.http
    assert (await http.get("/api/v1/zones")).status_code == 200
    assert (await http.get("/readyz")).status_code == 200
    with capture_logs() as logs:
        await proxy.stop()
        answers = [await http.get("/api/v1/zones") for _ in range(20)]
        ready = await http.get("/readyz")
        await eventually(lambda: not served.runtime.database.available)
        await proxy.start()
        await eventually(lambda: served.runtime.database.available)
        after = await http.get("/api/v1/zones")
        ready_after = await http.get("/readyz")
    assert {a.status_code for a in answers} == {503}
    assert all(a.headers["Retry-After"] == "5" for a in answers)
    assert "retry later" in answers[0].json()["detail"]
    assert answers[0].headers.get("X-Correlation-Id"), "the answer still carries its id"
    assert ready.status_code == 503 and ready.json()["checks"]["database"] is False
    assert after.status_code == 200 and ready_after.status_code == 200
    said = [entry["event"] for entry in logs]
    assert said.count("http.unavailable") == 1, "20 failed requests, one line"
    assert said.count("database.unavailable") == 1 and said.count("database.available") == 1
    available = next(entry for entry in logs if entry["event"] == "database.available")
    assert available["duration_s"] >= 0
    assert not [entry for entry in logs if entry.get("exc_info")], "no traceback in an outage"


async def test_a_bug_is_a_500_logged_with_its_traceback_once_per_interval(
    served: Served,
) -> None:
    @served.app.get("/t/bug")
    async def bug() -> None:
        raise RuntimeError("a bug of ours")

    with capture_logs() as logs:
        answers = [await served.http.get("/t/bug") for _ in range(5)]
    assert {a.status_code for a in answers} == {500}
    assert answers[0].json() == {"detail": "internal error"}
    [line] = [entry for entry in logs if entry["event"] == "http.failed"]
    assert isinstance(line["exc_info"], RuntimeError)
    assert line["count"] == 1 and line["path"] == "/t/bug"
