"""The whole system as real processes on a database of its own, once for this folder."""

from __future__ import annotations

import io
import tarfile
from collections.abc import AsyncIterator
from typing import Any
from uuid import uuid4

import pytest
import pytest_asyncio

from guificloud.testing.plugin import fresh_database
from guificloud.testing.servers import Servers
from tests.e2e.system import System


@pytest_asyncio.fixture(scope="package")
async def fuzzed_system(
    servers: Servers, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[System]:
    """Every service started once, with a cloud box and an image, so that lists are not
    empty and the fuzzer has records to change."""
    async with fresh_database(servers, prefix="fuzz") as database_url:
        system = System(database_url, servers.nats_url, tmp_path_factory.mktemp("fuzz"))
        system.start()
        try:
            system.add_cloud_box("fuzz-box")
            _publish_image(system)
            yield system
        finally:
            system.stop()


@pytest.fixture
def published_image(fuzzed_system: System) -> dict[str, Any]:
    """An image published now: the fuzzer, as an operator, may have deleted the first."""
    return _publish_image(fuzzed_system)


def _tar() -> bytes:
    """A tar of one small file: the store takes only what its format says."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        info = tarfile.TarInfo("hello")
        info.size = 5
        tar.addfile(info, io.BytesIO(b"hello"))
    return out.getvalue()


def _publish_image(system: System) -> dict[str, Any]:
    """As the system's operator: publishing needs credentials."""
    response = system.http.post(
        system.url("imagestore", "/api/v1/images"),
        params={
            "name": "fuzz-image",
            "version": f"1.0.0-{uuid4().hex[:8]}",
            "arch": "amd64",
            "format": "tar",
        },
        content=_tar(),
        headers={"Content-Type": "application/octet-stream"},
    )
    assert response.status_code == 201, response.text
    return dict(response.json())
