"""The embedded PostgreSQL starts from private (0700) folders and changes no folder's mode.

As root it runs as a system user that cannot enter such folders; it must run from a copy of
its binaries and a cluster folder of its own instead of opening the folders above.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from guificloud.devservers import postgres_home
from guificloud.devservers.ports import free_port
from guificloud.devservers.postgres import PostgresServer, wheel_install

pytestmark = pytest.mark.integration

as_root = pytest.mark.skipif(os.geteuid() != 0, reason="only root runs PostgreSQL as another user")


def _modes(path: Path) -> dict[Path, int]:
    return {p: p.stat().st_mode for p in [path, *path.parents]}


@pytest.fixture
def private(tmp_path: Path) -> Path:
    folder = tmp_path / "private"
    folder.mkdir(mode=0o700)
    folder.chmod(0o700)
    return folder


@pytest.fixture
def server(private: Path) -> Iterator[PostgresServer]:
    pg = PostgresServer(private / "data", port=free_port(), fsync=False)
    try:
        yield pg
    finally:
        pg.stop()


@as_root
def test_root_runs_postgres_installed_in_a_private_folder(private: Path) -> None:
    wheel = private / "site-packages"
    for part in postgres_home.WHEEL_PARTS:
        shutil.copytree(wheel_install() / part, wheel / part)
    pg = PostgresServer(private / "data", port=free_port(), install=wheel, fsync=False)
    try:
        pg.start()
        pg.create_database("reachable")
    finally:
        pg.stop()
    assert not pg.layout.bin.is_relative_to(private)


def test_starting_changes_no_folder_above_the_data(private: Path, server: PostgresServer) -> None:
    before = _modes(private)
    server.start()
    assert _modes(private) == before


@as_root
def test_binaries_are_copied_once_owned_by_root_and_readable(tmp_path: Path) -> None:
    home = tmp_path / "home"
    bin_dir = postgres_home.install_binaries(wheel_install(), home)
    again = postgres_home.install_binaries(wheel_install(), home)
    assert again == bin_dir
    assert [p.name for p in home.iterdir()] == [bin_dir.parents[2].name]
    postgres = bin_dir / "postgres"
    assert postgres.stat().st_uid == 0 and postgres.stat().st_mode & 0o777 == 0o755
    version = subprocess.run([postgres, "--version"], capture_output=True, text=True, check=True)
    assert "PostgreSQL" in version.stdout


@as_root
def test_a_cluster_no_data_folder_claims_is_removed(tmp_path: Path) -> None:
    home = tmp_path / "home"
    user = postgres_home.system_user()
    kept = postgres_home.cluster(tmp_path / "kept", user, home)
    wiped = postgres_home.cluster(tmp_path / "wiped", user, home)
    assert postgres_home.cluster(tmp_path / "kept", user, home) == kept
    assert kept.stat().st_uid == user.pw_uid
    shutil.rmtree(tmp_path / "wiped")
    fresh = postgres_home.cluster(tmp_path / "wiped", user, home)
    assert fresh != wiped
    assert sorted(p.name for p in (home / "clusters").iterdir()) == sorted([kept.name, fresh.name])
