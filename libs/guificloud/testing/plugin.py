"""pytest plugin (entry point ``guificloud``): real servers once per session, isolation per test.

- ``servers``: the session's NATS and PostgreSQL (see :mod:`guificloud.testing.servers`).
- ``database_url``: a fresh database for this test, dropped afterwards.
- ``nats_url``: the session's NATS with every stream deleted first, so no test sees
  another's messages.
- ``authority``: the session's token authority (see :mod:`guificloud.testing.authority`);
  every process a test starts verifies its tokens, runs in the ``test`` environment and
  has its strong admin token. The commands tests run find no login but the ones tests make
  (``GUIFICLOUD_CREDENTIALS`` names a file of the session, ``GUIFICLOUD_TOKEN`` is unset).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Iterator
from uuid import uuid4

import asyncpg
import nats
import pytest
import pytest_asyncio
from sqlalchemy.engine import make_url

from guificloud.testing.authority import ADMIN_TOKEN, TestAuthority, serving_authority
from guificloud.testing.servers import Servers, session_servers


def _plain(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session", autouse=True)
def authority(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestAuthority]:
    """Set in the environment before any test runs, so every process started inherits it;
    a test that gives its own values (in a process's ``env``) still wins."""
    given = {
        "GUIFICLOUD_IDENTITY_URL": "",
        "GUIFICLOUD_ENVIRONMENT": "test",
        "GUIFICLOUD_ADMIN_TOKEN": ADMIN_TOKEN,
        "GUIFICLOUD_CREDENTIALS": str(tmp_path_factory.mktemp("login") / "credentials.json"),
    }
    before = {name: os.environ.get(name) for name in (*given, "GUIFICLOUD_TOKEN")}
    with serving_authority() as found:
        os.environ.update({**given, "GUIFICLOUD_IDENTITY_URL": found.url})
        os.environ.pop("GUIFICLOUD_TOKEN", None)
        try:
            yield found
        finally:
            for name, value in before.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    with session_servers(tmp_path_factory.mktemp("servers")) as found:
        yield found


@contextlib.asynccontextmanager
async def fresh_database(servers: Servers, prefix: str = "t") -> AsyncIterator[str]:
    """A new empty database on the session's server, dropped afterwards; yields its URL."""
    name = f"{prefix}_{uuid4().hex[:12]}"
    admin = await asyncpg.connect(_plain(servers.admin_database_url))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield (
            make_url(servers.admin_database_url)
            .set(drivername="postgresql+asyncpg", database=name)
            .render_as_string(hide_password=False)
        )
    finally:
        admin = await asyncpg.connect(_plain(servers.admin_database_url))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@pytest_asyncio.fixture
async def database_url(servers: Servers) -> AsyncIterator[str]:
    async with fresh_database(servers) as url:
        yield url


@pytest_asyncio.fixture
async def nats_url(servers: Servers) -> str:
    nc = await nats.connect(servers.nats_url)
    try:
        js = nc.jetstream()
        for info in await js.streams_info():
            if info.config.name:
                await js.delete_stream(info.config.name)
    finally:
        await nc.close()
    return servers.nats_url
