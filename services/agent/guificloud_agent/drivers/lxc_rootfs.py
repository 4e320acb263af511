"""Unpacking an image into a container's root filesystem, within its disk limit.

With a disk limit the root filesystem is an ext4 file system in a sparse file of that size
(``<container>/rootdev``), which LXC's ``loop`` backend mounts when the container starts: the
container can never write more than its limit. Without a limit, or with the ``dir`` disk mode
(for hosts without loop devices), it is a plain directory and the limit is only checked
against the image's unpacked size when the container is made; nothing stops the container
from growing later. Unpacking is GNU tar as root: owners by number, modes, and the extended
attributes that carry file capabilities are kept, as the image's publisher made them.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Literal

from guificloud_agent.drivers.base import DriverError
from guificloud_agent.drivers.rootfs import RootfsSummary
from guificloud_agent.drivers.subprocesses import check

DiskMode = Literal["loop", "dir"]

ROOTFS = "rootfs"
ROOTDEV = "rootdev"
MIB = 1024 * 1024
TOOL_TIMEOUT_S = 120.0


def rootfs_path(container_dir: Path, disk_mb: int | None, mode: DiskMode) -> str:
    """The LXC ``lxc.rootfs.path`` (with its backend) the container will use."""
    if disk_mb is not None and mode == "loop":
        return f"loop:{container_dir / ROOTDEV}"
    return f"dir:{container_dir / ROOTFS}"


async def unpack(
    image: Path,
    container_dir: Path,
    summary: RootfsSummary,
    disk_mb: int | None,
    mode: DiskMode,
    *,
    timeout_s: float,
) -> None:
    """Make the container's root filesystem from ``image``; raises :class:`DriverError`."""
    if disk_mb is not None and summary.file_bytes > disk_mb * MIB:
        raise DriverError(
            f"image needs {math.ceil(summary.file_bytes / MIB)} MB unpacked, more than the "
            f"disk limit of {disk_mb} MB"
        )
    rootfs = container_dir / ROOTFS
    rootfs.mkdir(parents=True)
    if not rootfs_path(container_dir, disk_mb, mode).startswith("loop:"):
        await _extract(image, rootfs, timeout_s)
        return
    assert disk_mb is not None
    device = container_dir / ROOTDEV
    with device.open("wb") as f:
        f.truncate(disk_mb * MIB)
    await check(
        ["mkfs.ext4", "-q", "-F", "-m", "0", "-E", "lazy_itable_init=1,lazy_journal_init=1"]
        + [str(device)],
        timeout_s=TOOL_TIMEOUT_S,
        doing=f"making the {disk_mb} MB disk",
    )
    await check(
        ["mount", "-o", "loop", str(device), str(rootfs)],
        timeout_s=TOOL_TIMEOUT_S,
        doing="mounting the container's disk",
    )
    try:
        await _extract(image, rootfs, timeout_s)
    finally:
        await unmount(rootfs)


async def unmount(path: Path) -> None:
    if path.is_mount():
        await check(["umount", str(path)], timeout_s=TOOL_TIMEOUT_S, doing=f"unmounting {path}")


async def _extract(image: Path, rootfs: Path, timeout_s: float) -> None:
    await check(
        [
            "tar",
            "--extract",
            f"--file={image}",
            f"--directory={rootfs}",
            "--numeric-owner",
            "--same-owner",
            "--preserve-permissions",
            "--xattrs",
            "--xattrs-include=*",
        ],
        timeout_s=timeout_s,
        doing="unpacking the image",
    )
