"""LXC in tests: a tiny busybox root filesystem, the probe that says whether containers can
run on this host (and why not), and clearing an lxcpath of whatever a test left."""

from __future__ import annotations

import asyncio
import io
import shutil
import struct
import tarfile
from pathlib import Path

from guificloud_agent.drivers.base import DriverError, Limits
from guificloud_agent.drivers.lxc import LxcDriver
from guificloud_agent.drivers.subprocesses import run

INIT_SCRIPT = b"""#!/bin/sh
# The container's PID 1: exit at once on the halt signal (SIGPWR) that lxc-stop sends
# (a trap runs when ``wait`` is interrupted, not before a foreground sleep ends).
trap 'exit 0' PWR TERM
while :; do /bin/busybox sleep 3600 & wait $!; done
"""
PT_INTERP = 3


def static_busybox() -> tuple[Path | None, str]:
    """The host's busybox if it is statically linked (it must run alone in a container)."""
    found = shutil.which("busybox")
    if found is None:
        return None, "busybox is not installed (Debian package busybox-static)"
    path = Path(found).resolve()
    data = path.read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 2:
        return None, f"{path} is not a 64-bit ELF executable"
    (phoff,) = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    for i in range(phnum):
        (p_type,) = struct.unpack_from("<I", data, phoff + i * phentsize)
        if p_type == PT_INTERP:
            return None, f"{path} is dynamically linked; install Debian's busybox-static"
    return path, ""


def busybox_rootfs(busybox: Path, *, padding: int = 0, init: bool = True) -> bytes:
    """A tar.gz root filesystem: busybox, ``sh``, an init that sleeps, and the mount points;
    ``padding`` adds a file of that many bytes (to go over a disk limit)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as archive:
        for d in ("bin", "sbin", "etc", "proc", "sys", "dev", "tmp", "root"):
            info = tarfile.TarInfo(f"./{d}")
            info.type, info.mode = tarfile.DIRTYPE, 0o1777 if d == "tmp" else 0o755
            archive.addfile(info)
        archive.add(busybox, "./bin/busybox")
        link = tarfile.TarInfo("./bin/sh")
        link.type, link.linkname = tarfile.SYMTYPE, "busybox"
        archive.addfile(link)
        files = {"./etc/hostname": b"guifi\n"}
        if init:
            files["./sbin/init"] = INIT_SCRIPT
        if padding:
            files["./padding.bin"] = bytes(padding)
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(content), 0o755
            archive.addfile(info, io.BytesIO(content))
    return out.getvalue()


async def probe(workdir: Path) -> str | None:
    """Really make, start, enter and destroy a container; ``None`` if all of it works, else
    the reason LXC tests cannot run here."""
    busybox, why = static_busybox()
    if busybox is None:
        return why
    if shutil.which("lxc-start") is None:
        return "lxc-start is not installed (Debian package lxc)"
    image = workdir / "probe.tar.gz"
    image.write_bytes(busybox_rootfs(busybox))
    driver = LxcDriver(workdir, workdir / "lxc", stop_timeout_s=5)
    try:
        await driver.create("probe", image, Limits(memory_mb=64, disk_mb=16))
        await driver.start("probe")
        answer = await driver.attach("probe", ["/bin/busybox", "echo", "hello"])
        if answer.out.strip() != "hello":
            return f"lxc-attach into a running container did not answer: {answer.message}"
        return None
    except DriverError as exc:
        return f"LXC cannot run containers on this host: {exc}"
    finally:
        await clear(driver.lxc_path)


async def clear(lxc_path: Path) -> None:
    """Kill and destroy every container under ``lxc_path`` (what a failed test left)."""
    if not lxc_path.is_dir():
        return
    for directory in lxc_path.iterdir():
        if (directory / "config").is_file():
            argv = ["--name", directory.name, "--lxcpath", str(lxc_path)]
            await run(["lxc-stop", "--kill", *argv], timeout_s=30)
            await run(["lxc-destroy", *argv], timeout_s=30)
        if directory.is_dir():
            rootfs = directory / "rootfs"
            if rootfs.is_mount():
                await run(["umount", str(rootfs)], timeout_s=30)
            await asyncio.to_thread(shutil.rmtree, directory, True)
