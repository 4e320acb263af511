"""The whole system as real processes on a database of its own, once for this folder."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from guificloud.testing.plugin import fresh_database
from guificloud.testing.servers import Servers
from tests.e2e.system import System


@pytest_asyncio.fixture(scope="package")
async def fuzzed_system(
    servers: Servers, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[System]:
    """Every service started once, with a cloud box registered so that lists are not empty."""
    async with fresh_database(servers, prefix="fuzz") as database_url:
        system = System(database_url, servers.nats_url, tmp_path_factory.mktemp("fuzz"))
        system.start()
        try:
            system.add_cloud_box("fuzz-box")
            yield system
        finally:
            system.stop()
