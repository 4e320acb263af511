"""What the lxc driver checks before it unpacks anything, and the LXC configuration it
writes: no LXC needed, so these run everywhere."""

from __future__ import annotations

import io
import tarfile
from dataclasses import replace
from pathlib import Path

import pytest

from guificloud_agent.drivers.base import DriverError, Limits
from guificloud_agent.drivers.lxc_config import ContainerConfig, limit_lines, render
from guificloud_agent.drivers.rootfs import inspect_image, resolves

pytestmark = pytest.mark.unit


def _tar(tmp_path: Path, members: dict[str, bytes | str | None]) -> Path:
    """bytes: a file; str: a symbolic link to it; None: a directory."""
    path = tmp_path / "image.tar.xz"
    with tarfile.open(path, mode="w:xz") as archive:
        for name, what in members.items():
            info = tarfile.TarInfo(name)
            if what is None:
                info.type = tarfile.DIRTYPE
                archive.addfile(info)
            elif isinstance(what, str):
                info.type, info.linkname = tarfile.SYMTYPE, what
                archive.addfile(info)
            else:
                info.size = len(what)
                archive.addfile(info, io.BytesIO(what))
    return path


def test_init_is_found_through_the_links_of_a_merged_usr_debian(tmp_path: Path) -> None:
    image = _tar(
        tmp_path,
        {
            "./": None,
            "./sbin": "usr/sbin",
            "./usr/lib/systemd/systemd": b"\x7fELF" + bytes(1000),
            "./usr/sbin/init": "/lib/systemd/systemd",
            "./lib": "usr/lib",
        },
    )
    summary = inspect_image(image)
    assert summary.has_init and summary.members == 5 and summary.file_bytes == 1004


def test_an_image_without_init_or_with_a_dangling_one_says_so(tmp_path: Path) -> None:
    assert not inspect_image(_tar(tmp_path, {"bin/sh": b"#!"})).has_init
    assert not inspect_image(_tar(tmp_path, {"sbin/init": "/bin/systemd"})).has_init
    assert not resolves({"a"}, {"a": "a"}, "a/init")  # a loop of links ends


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"\x7fELF not a tar at all" * 40, "not a readable tar"),
        (None, "not found"),
    ],
)
def test_unreadable_images_are_refused(tmp_path: Path, content: bytes | None, reason: str) -> None:
    path = tmp_path / "image"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(DriverError, match=reason):
        inspect_image(path)


def test_a_member_that_leaves_the_root_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DriverError, match="leaves the root filesystem"):
        inspect_image(_tar(tmp_path, {"sbin/init": b"x", "../../etc/cron.d/evil": b"x"}))


def _cgroups(tmp_path: Path, *, unified: bool, controllers: list[str]) -> Path:
    root = tmp_path / "cgroup"
    root.mkdir(parents=True)
    if unified:
        (root / "cgroup.controllers").write_text(" ".join(controllers) + "\n")
    else:
        for name in controllers:
            (root / name).mkdir()
    return root


def test_limits_use_the_cgroup_keys_of_the_host(tmp_path: Path) -> None:
    limits = Limits(memory_mb=256, disk_mb=1024, cpus=1.5)
    v2 = _cgroups(tmp_path / "a", unified=True, controllers=["cpu", "memory", "pids"])
    assert limit_lines(limits, v2) == [
        "lxc.cgroup2.memory.max = 268435456",
        "lxc.cgroup2.cpu.max = 150000 100000",
    ]
    v1 = _cgroups(tmp_path / "b", unified=False, controllers=["cpu", "memory", "unified"])
    assert limit_lines(limits, v1) == [
        "lxc.cgroup.memory.limit_in_bytes = 268435456",
        "lxc.cgroup.cpu.cfs_period_us = 100000",
        "lxc.cgroup.cpu.cfs_quota_us = 150000",
    ]
    no_memory = _cgroups(tmp_path / "c", unified=True, controllers=["cpu"])
    with pytest.raises(DriverError, match="memory limit of 256 MB: no memory cgroup"):
        limit_lines(limits, no_memory)


def test_the_configuration_names_rootfs_init_and_network(tmp_path: Path) -> None:
    root = _cgroups(tmp_path, unified=True, controllers=["memory"])
    config = ContainerConfig(
        name="platform-0123",
        rootfs="loop:/var/lib/lxc/platform-0123/rootdev",
        limits=Limits(memory_mb=64),
        console_log=Path("/var/lib/lxc/platform-0123/console.log"),
    )
    text = render(config, cgroup_root=root)
    for line in (
        "lxc.uts.name = platform-0123",
        "lxc.rootfs.path = loop:/var/lib/lxc/platform-0123/rootdev",
        "lxc.init.cmd = /sbin/init",
        "lxc.net.0.type = empty",
        "lxc.cgroup2.memory.max = 67108864",
    ):
        assert line in text.splitlines()
    bridged = render(replace(config, bridge="br0"), cgroup_root=root)
    assert "lxc.net.0.link = br0" in bridged.splitlines()
    assert "lxc.net.0.type = veth" in bridged.splitlines()
