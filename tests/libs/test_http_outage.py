"""Requests during a real database outage: 503 with Retry-After, not ready, and the log
stays readable (one line per kind of failure, the outage's start and end once each)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from structlog.testing import capture_logs

from guificloud.testing.inprocess import InProcessService, service_in_process
from guificloud.testing.pgproxy import PgProxy, pg_proxy
from guificloud_registry.service import DEFINITION
from guificloud_registry.settings import RegistrySettings
from tests.libs.messaging_support import eventually

pytestmark = pytest.mark.integration


@pytest_asyncio.fixture
async def proxy(database_url: str) -> AsyncIterator[PgProxy]:
    async with pg_proxy(database_url) as proxy:
        yield proxy


@pytest_asyncio.fixture
async def served(proxy: PgProxy, nats_url: str) -> AsyncIterator[InProcessService]:
    """The registry, its database reached through the proxy."""
    settings = RegistrySettings(database_url=proxy.url(), nats_url=nats_url)
    async with service_in_process(DEFINITION, settings) as served:
        yield served


async def test_a_database_outage_is_503_with_retry_after_and_not_ready(
    served: InProcessService, proxy: PgProxy
) -> None:
    http = served.client
    assert (await http.get("/api/v1/zones")).status_code == 200
    assert (await http.get("/readyz")).status_code == 200
    with capture_logs() as logs:
        proxy.cut()
        answers = [await http.get("/api/v1/zones") for _ in range(20)]
        ready = await http.get("/readyz")
        await eventually(lambda: not served.runtime.database.available)
        proxy.restore()
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
    served: InProcessService,
) -> None:
    @served.app.get("/t/bug")
    async def bug() -> None:
        raise RuntimeError("a bug of ours")

    with capture_logs() as logs:
        answers = [await served.client.get("/t/bug") for _ in range(5)]
    assert {a.status_code for a in answers} == {500}
    assert answers[0].json() == {"detail": "internal error"}
    [line] = [entry for entry in logs if entry["event"] == "http.failed"]
    assert isinstance(line["exc_info"], RuntimeError)
    assert line["count"] == 1 and line["path"] == "/t/bug"
