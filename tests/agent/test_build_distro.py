"""The distro build script packs, signs and pushes to a real image store; an image from the
store then becomes a running container on a box (where LXC works).

Debootstrap itself is too slow for tests: the script packages a small root filesystem
given with ``--rootfs``, which is the same path after debootstrap.
"""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
import tarfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest
import pytest_asyncio

from guificloud import signing
from guificloud.boxes import DistroSpec
from guificloud.testing.authority import ADMIN_TOKEN
from guificloud.testing.plugin import fresh_database
from guificloud.testing.processes import ServiceProcess
from guificloud.testing.servers import Servers
from guificloud_agent.drivers.base import Limits
from guificloud_agent.drivers.lxc import LxcDriver
from guificloud_agent.platform import container_name
from tests.agent.agent_helpers import running_agent
from tests.agent.agent_peer import Peer
from tests.agent.lxc_helpers import busybox_rootfs, clear, static_busybox

pytestmark = pytest.mark.integration

SCRIPT = Path(__file__).parents[2] / "scripts" / "build-distro.sh"


@pytest_asyncio.fixture(scope="module")
async def store_database(servers: Servers) -> AsyncIterator[str]:
    async with fresh_database(servers, prefix="buildistro") as url:
        yield url


@pytest.fixture(scope="module")
def store(
    servers: Servers, store_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServiceProcess]:
    """An image store that accepts signed images only."""
    data = tmp_path_factory.mktemp("store")
    process = ServiceProcess(
        "guificloud_imagestore",
        env={
            "GUIFICLOUD_DATABASE_URL": store_database,
            "GUIFICLOUD_NATS_URL": servers.nats_url,
            "GUIFICLOUD_DATA_DIR": str(data),
            "GUIFICLOUD_ENVIRONMENT": "test",
            "GUIFICLOUD_ADMIN_TOKEN": ADMIN_TOKEN,
            "GUIFICLOUD_IMAGESTORE_REQUIRE_SIGNATURE": "true",
        },
        log_dir=data,
    )
    process.start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module")
def publisher(store: ServiceProcess, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A publisher key file, made by the script, trusted by the store."""
    key = tmp_path_factory.mktemp("publisher") / "publisher.key"
    made = subprocess.run(
        [str(SCRIPT), "--python", sys.executable, "--new-key", str(key)],
        capture_output=True,
        text=True,
        check=True,
    )
    public = made.stdout.split("public key:")[1].split()[0]
    answer = httpx.post(
        f"{store.url}/api/v1/keys",
        json={
            "publisher": "guifi-tests",
            "public_key": public,
            "names": ["guifi-community-distro"],
        },
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    )
    assert answer.status_code == 201, answer.text
    return key


def _rootfs(tmp_path: Path) -> Path:
    """A busybox root filesystem folder (just an init script where busybox is missing)."""
    root = tmp_path / "rootfs"
    busybox, _ = static_busybox()
    if busybox is None:
        (root / "sbin").mkdir(parents=True)
        (root / "sbin" / "init").write_text("#!/bin/sh\nexec sleep infinity\n")
        return root
    with tarfile.open(fileobj=io.BytesIO(busybox_rootfs(busybox)), mode="r:gz") as archive:
        archive.extractall(root, filter="tar")
    return root


def _build(
    tmp_path: Path,
    key: Path,
    store: ServiceProcess,
    version: str,
    env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Build and push with the session's admin token (an operator's) unless ``env`` says."""
    build = subprocess.run(
        [
            str(SCRIPT),
            f"--version={version}",
            f"--key={key}",
            f"--store={store.url}",
            f"--rootfs={_rootfs(tmp_path)}",
            f"--out={tmp_path / 'out'}",
            "--arch=amd64",
            "--format=tar.xz",
            f"--python={sys.executable}",
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    assert build.returncode == 0, build.stderr + store.tail()
    image = httpx.get(f"{store.url}/api/v1/images", params={"name": "guifi-community-distro"})
    return next(i for i in image.json() if i["version"] == version)


def test_the_script_pushes_only_with_credentials(
    store: ServiceProcess, publisher: Path, tmp_path: Path
) -> None:
    anonymous = {k: v for k, v in os.environ.items() if k != "GUIFICLOUD_ADMIN_TOKEN"}
    anonymous["GUIFICLOUD_CREDENTIALS"] = str(tmp_path / "no-login.json")
    with pytest.raises(AssertionError, match="no credentials"):
        _build(tmp_path, publisher, store, f"0.{uuid4().int % 10_000}", env=anonymous)


def test_the_script_pushes_a_signed_image(
    store: ServiceProcess, publisher: Path, tmp_path: Path
) -> None:
    version = f"0.{uuid4().int % 10_000}"
    image = _build(tmp_path, publisher, store, version)
    public = signing.public_of(publisher.read_text().strip())
    assert image["state"] == "active" and image["format"] == "tar.xz"
    assert image["key_id"] == signing.key_id(public)
    signing.verify(
        {image["key_id"]: public}, image["signature"], image["key_id"],
        image["name"], version, "amd64", image["digest"],
    )  # fmt: skip
    blob = httpx.get(image["download_url"]).content
    with tarfile.open(fileobj=io.BytesIO(blob), mode="r:xz") as archive:
        assert "./sbin/init" in archive.getnames()


@pytest.mark.lxc
async def test_an_image_from_the_store_runs_on_a_box(
    store: ServiceProcess,
    publisher: Path,
    peer: Peer,
    reports,
    tmp_path: Path,
    busybox: Path,
) -> None:
    version = f"1.{uuid4().int % 10_000}"
    image = await asyncio.to_thread(_build, tmp_path, publisher, store, version)
    config = peer.add_box()
    peer.trust(config.box_id, signing.public_of(publisher.read_text().strip()))
    spec = DistroSpec(
        name=image["name"],
        version=version,
        arch=image["arch"],
        digest=image["digest"],
        size=image["size"],
        url=image["download_url"],
        signature=image["signature"],
        key_id=image["key_id"],
    )
    peer.want(config.box_id, spec)
    watch = await reports(config)
    driver = LxcDriver(tmp_path / "state", tmp_path / "lxc", stop_timeout_s=5)
    try:
        async with running_agent(
            config,
            tmp_path / "cache",
            driver=driver,
            resync_interval_s=0.3,
            platform_limits=Limits(memory_mb=64, disk_mb=16),
        ):
            await watch.state("running", distro_digest=spec.digest)
            name = container_name(spec.digest)
            hello = await driver.attach(name, ["/bin/busybox", "echo", "hello"])
            assert hello.out == "hello\n"
            peer.want(config.box_id, None)
            await watch.state("idle")
        assert await driver.names() == [] and list(driver.lxc_path.iterdir()) == []
    finally:
        await clear(driver.lxc_path)
