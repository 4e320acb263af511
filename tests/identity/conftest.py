"""Fixtures of the identity service's tests: the service in the test's loop, real servers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio

from tests.identity.support import Identity, identity_service, settings_for


@pytest_asyncio.fixture
async def identity(database_url: str, nats_url: str, tmp_path: Path) -> AsyncIterator[Identity]:
    async with identity_service(settings_for(database_url, nats_url, tmp_path)) as found:
        yield found
