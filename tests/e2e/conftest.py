from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.system import System


@pytest.fixture
def system(database_url: str, nats_url: str, tmp_path: Path) -> Iterator[System]:
    """Every service as its own process on a fresh database and an empty NATS."""
    sys_ = System(database_url, nats_url, tmp_path)
    sys_.start()
    try:
        yield sys_
    finally:
        sys_.stop()


@pytest.fixture(scope="session")
def distro_v1(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from guificloud_imagestore.distro import build_distro_rootfs

    return build_distro_rootfs(tmp_path_factory.mktemp("distro") / "distro-1.0.0.tar.gz", "1.0.0")


@pytest.fixture(scope="session")
def distro_v2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from guificloud_imagestore.distro import build_distro_rootfs

    return build_distro_rootfs(tmp_path_factory.mktemp("distro") / "distro-1.0.1.tar.gz", "1.0.1")
