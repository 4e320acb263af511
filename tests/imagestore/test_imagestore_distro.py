"""The seed root filesystem: what it holds, and that it is the same bytes every time."""

from __future__ import annotations

import hashlib
import stat
import tarfile
from pathlib import Path

import pytest

from guificloud_imagestore.distro import build_distro_rootfs

pytestmark = pytest.mark.unit


def test_rootfs_is_deterministic(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = build_distro_rootfs(tmp_path / "a", "1.2.3")
    second = build_distro_rootfs(tmp_path / "b", "1.2.3")
    other = build_distro_rootfs(tmp_path / "other.tar.gz", "1.2.4")

    def digest(path: Path) -> str:
        return hashlib.sha256(path.read_bytes()).hexdigest()

    assert first.name == "guifi-community-distro-1.2.3.tar.gz"
    assert digest(first) == digest(second) != digest(other)


def test_rootfs_holds_the_distro(tmp_path: Path) -> None:
    path = build_distro_rootfs(tmp_path / "rootfs.tar.gz", "2.0.0")
    with tarfile.open(path, "r:gz") as tar:
        members = {m.name: m for m in tar.getmembers()}

        def text(name: str) -> str:
            f = tar.extractfile(name)
            assert f is not None
            return f.read().decode()

        assert 'PRETTY_NAME="Guifi-Community-Distro 2.0.0"' in text("etc/os-release")
        assert text("sbin/init").startswith("#!/bin/sh\n")
        assert "introducer.furl" in text("etc/tahoe-lafs/tahoe.cfg")
        assert "[server]" in text("etc/avahi/avahi-daemon.conf")
        assert text("etc/hostname").strip()

    names = list(members)
    assert names == sorted(names)
    for d in ("bin", "dev", "proc", "sys", "tmp", "var"):
        assert members[d].isdir()
    assert members["sbin/init"].mode & stat.S_IXUSR
    assert {(m.uid, m.gid, m.mtime) for m in members.values()} == {(0, 0, 1_704_067_200)}


def test_padding_makes_a_bigger_image_that_is_still_deterministic(tmp_path: Path) -> None:
    one = build_distro_rootfs(tmp_path / "one.tar.gz", "3.0.0", padding_bytes=500_000)
    two = build_distro_rootfs(tmp_path / "two.tar.gz", "3.0.0", padding_bytes=500_000)
    assert one.stat().st_size > 500_000
    assert one.read_bytes() == two.read_bytes()
