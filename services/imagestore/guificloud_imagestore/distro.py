"""The seed image: a small root filesystem of the Guifi-Community-Distro, as a tar.gz.

Built byte for byte the same every time (fixed mtimes, owners and gzip header, sorted
entries), so the same version always has the same digest. It holds the files the platform
container is recognised by and a tiny ``/sbin/init``; no binaries, so it fits any arch.
"""

from __future__ import annotations

import gzip
import io
import random
import tarfile
from pathlib import Path

from guificloud.key_names import DISTRO_NAME

EPOCH = 1_704_067_200  # 2024-01-01T00:00:00Z: every entry's mtime
DIRS = (
    "bin",
    "dev",
    "etc",
    "etc/avahi",
    "etc/tahoe-lafs",
    "proc",
    "sbin",
    "sys",
    "tmp",
    "var",
    "var/lib",
    "var/log",
)
EXECUTABLE = frozenset({"sbin/init"})
PADDING = "var/lib/padding.bin"

INIT = """#!/bin/sh
# Guifi-Community-Distro init: mount what a container needs, then stay alive.
mount -t proc proc /proc 2>/dev/null
mount -t sysfs sysfs /sys 2>/dev/null
hostname "$(cat /etc/hostname)" 2>/dev/null
echo "$(. /etc/os-release && echo "$PRETTY_NAME") up"
trap 'exit 0' TERM INT
while :; do sleep 3600 & wait $!; done
"""

AVAHI = """[server]
use-ipv4=yes
use-ipv6=yes
allow-interfaces=eth0

[publish]
publish-addresses=yes
publish-workstation=no

[wide-area]
enable-wide-area=no
"""

TAHOE = """# Tahoe-LAFS node of a Guifi cloud box.
# The introducer is set when the box joins a community grid.
[node]
nickname = guifi-cloudbox
web.port = tcp:3456:interface=127.0.0.1

[client]
introducer.furl = pb://INTRODUCER-PLACEHOLDER@tcp:introducer.guifi.local:44190/introducer
shares.needed = 3
shares.happy = 7
shares.total = 10

[storage]
enabled = true
"""


def os_release(version: str) -> str:
    return (
        'NAME="Guifi-Community-Distro"\n'
        f'VERSION="{version}"\n'
        f"ID={DISTRO_NAME}\n"
        f"VERSION_ID={version}\n"
        f'PRETTY_NAME="Guifi-Community-Distro {version}"\n'
        'HOME_URL="https://guifi.net/"\n'
    )


def rootfs_files(version: str) -> dict[str, str]:
    """Path inside the root filesystem -> text content."""
    return {
        "etc/avahi/avahi-daemon.conf": AVAHI,
        "etc/hostname": "guifi-cloudbox\n",
        "etc/os-release": os_release(version),
        "etc/tahoe-lafs/tahoe.cfg": TAHOE,
        "sbin/init": INIT,
    }


def _entry(name: str, *, directory: bool, size: int = 0) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE if directory else tarfile.REGTYPE
    info.mode = 0o1777 if name == "tmp" else 0o755 if directory or name in EXECUTABLE else 0o644
    info.size = size
    info.mtime = EPOCH
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    return info


def build_distro_rootfs(path: Path, version: str, *, padding_bytes: int = 0) -> Path:
    """Write the root filesystem to ``path`` (or into it, when it is a folder); returns the file.

    ``padding_bytes`` adds ``var/lib/padding.bin``, incompressible but still the same bytes
    for the same version: a bigger image, for tests of slow links and resumed downloads."""
    if path.is_dir():
        path = path / f"{DISTRO_NAME}-{version}.tar.gz"
    files = {name: text.encode() for name, text in rootfs_files(version).items()}
    if padding_bytes > 0:
        files[PADDING] = random.Random(f"{DISTRO_NAME}-{version}").randbytes(padding_bytes)
    entries = sorted([*((d, None) for d in DIRS), *files.items()], key=lambda e: e[0])
    with (
        open(path, "wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.USTAR_FORMAT) as tar,
    ):
        for name, data in entries:
            if data is None:
                tar.addfile(_entry(name, directory=True))
            else:
                tar.addfile(_entry(name, directory=False, size=len(data)), io.BytesIO(data))
    return path
