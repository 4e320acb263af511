"""Fixtures of the registry's tests: the registry as a real process on a fresh database, the
real CNML exports of guifi.net, and the REGISTRY stream's message count.

``registry`` is the registry as an operator sees it (the deployment's admin token): tests of
what the registry does write through it; the tests of who may do what (``test_access``)
bring their own callers."""

from __future__ import annotations

import json
import os
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import nats
import pytest
import pytest_asyncio

from guificloud.testing.authority import ADMIN_TOKEN, TestAuthority, bearer
from guificloud.testing.plugin import fresh_database
from guificloud.testing.processes import ServiceProcess
from guificloud.testing.servers import Servers
from tests.registry.community import Community, build

REPO_ROOT = Path(__file__).resolve().parents[2]
CNML_DIR = Path(
    os.environ.get("GUIFICLOUD_CNML_TESTDATA", REPO_ROOT.parent / "shared" / "testdata" / "cnml")
)
"""The real guifi.net exports (not copied into the repository): beside the checkout, or
wherever ``GUIFICLOUD_CNML_TESTDATA`` says."""
ANDOAIN = "guifi_andoain_54284_detail.cnml"
WORLD = "guifi_world_zones_3671.cnml.xml"
CNML_MAX_BYTES = 4 * 1024 * 1024


@contextmanager
def registry_process(database_url: str, nats_url: str, log_dir: Path) -> Iterator[ServiceProcess]:
    proc = ServiceProcess(
        "guificloud_registry",
        log_dir=log_dir,
        env={
            "GUIFICLOUD_DATABASE_URL": database_url,
            "GUIFICLOUD_NATS_URL": nats_url,
            "GUIFICLOUD_REGISTRY_CNML_MAX_BYTES": str(CNML_MAX_BYTES),
        },
    )
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture
def registry_proc(database_url: str, nats_url: str, tmp_path: Path) -> Iterator[ServiceProcess]:
    with registry_process(database_url, nats_url, tmp_path) as proc:
        yield proc


@pytest.fixture
def registry(registry_proc: ServiceProcess) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=registry_proc.url, timeout=60, headers=bearer(ADMIN_TOKEN)
    ) as client:
        yield client


@pytest.fixture
def operator_login(
    tmp_path: Path, authority: TestAuthority, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A stored ``guificloud login`` of an operator (its access token fresh for ten
    minutes), which the CLI's commands then use."""
    path = tmp_path / "credentials.json"
    stored = {
        "identity_url": authority.url,
        "login": "operator",
        "refresh_token": "",
        "access_token": authority.token(authority.operator()),
        "access_expires_at": time.time() + 600,
    }
    path.write_text(json.dumps(stored))
    monkeypatch.setenv("GUIFICLOUD_CREDENTIALS", str(path))
    return path


@pytest.fixture(scope="session")
def cnml_dir() -> Path:
    if not CNML_DIR.is_dir():
        pytest.skip(
            f"the real CNML exports are not at {CNML_DIR} "
            "(../shared/testdata/cnml, or set GUIFICLOUD_CNML_TESTDATA)"
        )
    return CNML_DIR


@pytest.fixture(scope="session")
def andoain(cnml_dir: Path) -> Path:
    return cnml_dir / ANDOAIN


@pytest.fixture(scope="session")
def world(cnml_dir: Path) -> Path:
    return cnml_dir / WORLD


class Stream:
    """The REGISTRY stream as a subscriber sees it."""

    def __init__(self, js: nats.js.JetStreamContext) -> None:
        self.js = js

    async def count(self) -> int:
        return int((await self.js.stream_info("REGISTRY")).state.messages)

    async def last(self, subject: str) -> dict[str, object]:
        import json

        message = await self.js.get_last_msg("REGISTRY", subject)
        return dict(json.loads(message.data))


@pytest_asyncio.fixture
async def stream(nats_url: str) -> AsyncIterator[Stream]:
    nc = await nats.connect(nats_url)
    try:
        yield Stream(nc.jetstream())
    finally:
        await nc.close()


def post_cnml(client: httpx.Client, body: bytes, **params: object) -> httpx.Response:
    return client.post(
        "/api/v1/cnml", content=body, params=params, headers={"Content-Type": "application/xml"}
    )


@pytest_asyncio.fixture(scope="module")
async def community(
    servers: Servers, authority: TestAuthority, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Community]:
    """One registry per module with callers of every kind (``tests.registry.community``).
    It runs on the session's NATS with every stream dropped first, not on ``nats_url``
    (which drops them per test, from under a running registry)."""
    nc = await nats.connect(servers.nats_url)
    try:
        js = nc.jetstream()
        for info in await js.streams_info():
            await js.delete_stream(info.config.name)
    finally:
        await nc.close()
    async with fresh_database(servers, prefix="registry") as database_url:
        log_dir = tmp_path_factory.mktemp("registry")
        with (
            registry_process(database_url, servers.nats_url, log_dir) as proc,
            httpx.Client(base_url=proc.url, timeout=60) as http,
        ):
            yield await build(http, authority, servers.nats_url, database_url)
