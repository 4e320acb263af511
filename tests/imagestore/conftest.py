"""One image store process per test module, on its own database and data folder.

The store runs on the session's NATS through ``servers`` (not ``nats_url``, which deletes
every stream per test and would pull the stream from under a running service). Tests keep
out of each other's way by uploading unique names, versions and bytes. A module changes
the store's settings by overriding ``imagestore_env``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import nats
import pytest
import pytest_asyncio
from nats.js.errors import NotFoundError

from guificloud.bus.connection import Bus
from guificloud.streams import IMAGESTORE, PROVISIONER
from guificloud.testing.authority import ADMIN_TOKEN
from guificloud.testing.plugin import fresh_database
from guificloud.testing.processes import ServiceProcess
from guificloud.testing.servers import Servers
from tests.imagestore.helpers import ADMIN, UNSIGNED_OK

MAX_IMAGE_BYTES = 1_000_000


@pytest_asyncio.fixture(scope="module")
async def module_database_url(servers: Servers) -> AsyncIterator[str]:
    async with fresh_database(servers, prefix="imagestore") as url:
        yield url


@pytest_asyncio.fixture(scope="module")
async def fresh_imagestore_stream(servers: Servers) -> str:
    """Drop what earlier modules left in ``IMAGESTORE``; the service declares it anew."""
    nc = await nats.connect(servers.nats_url)
    try:
        try:
            await nc.jetstream().delete_stream(IMAGESTORE.name)
        except NotFoundError:
            pass
    finally:
        await nc.close()
    return servers.nats_url


@pytest.fixture(scope="module")
def imagestore_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("imagestore")


@pytest.fixture(scope="module")
def blob_root(imagestore_data_dir: Path) -> Path:
    """Where the store keeps blobs by default: ``sha256/<hex>`` and ``uploads/``."""
    return imagestore_data_dir / "imagestore" / "blobs"


@pytest.fixture(scope="module")
def imagestore_env() -> dict[str, str]:
    """Settings of this module's store beyond the common ones: most tests upload unsigned
    images, as a development store takes them."""
    return dict(UNSIGNED_OK)


@pytest.fixture(scope="module")
def imagestore(
    module_database_url: str,
    fresh_imagestore_stream: str,
    imagestore_data_dir: Path,
    imagestore_env: dict[str, str],
) -> Iterator[ServiceProcess]:
    process = ServiceProcess(
        "guificloud_imagestore",
        env={
            "GUIFICLOUD_DATABASE_URL": module_database_url,
            "GUIFICLOUD_NATS_URL": fresh_imagestore_stream,
            "GUIFICLOUD_DATA_DIR": str(imagestore_data_dir),
            "GUIFICLOUD_ENVIRONMENT": "test",
            "GUIFICLOUD_ADMIN_TOKEN": ADMIN_TOKEN,
            "GUIFICLOUD_IMAGESTORE_MAX_IMAGE_BYTES": str(MAX_IMAGE_BYTES),
            **imagestore_env,
        },
        log_dir=imagestore_data_dir,
    )
    process.start()
    try:
        yield process
    finally:
        process.stop()


@pytest_asyncio.fixture
async def provisioner(servers: Servers) -> AsyncIterator[Bus]:
    """A connection that publishes as the provisioner does, on its declared stream."""
    bus = await Bus.connect(servers.nats_url, name="test-provisioner")
    await bus.declare((PROVISIONER,))
    try:
        yield bus
    finally:
        await bus.close()


@pytest_asyncio.fixture
async def client(imagestore: ServiceProcess) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the store that speaks as an operator (the admin token): it publishes
    images of the deployment, of no group. Tests of who may do what send their own."""
    async with httpx.AsyncClient(base_url=imagestore.url, timeout=10.0, headers=ADMIN) as c:
        yield c
