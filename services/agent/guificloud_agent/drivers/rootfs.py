"""What a root filesystem image holds, read from its tar headers before anything is unpacked.

Drivers call this first, so that an image which could never run is refused with a plain
reason (not a tar, a member that escapes the root, no init, too big for the disk limit)
instead of an obscure failure halfway through unpacking or at start. Members are paths
relative to the root filesystem (``./sbin/init`` or ``sbin/init``), as
``tar -C ROOTFS -czf image.tar.gz .`` makes them.
"""

from __future__ import annotations

import lzma
import posixpath
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from guificloud_agent.drivers.base import DriverError

INIT = "sbin/init"
MAX_LINK_HOPS = 40


@dataclass(frozen=True)
class RootfsSummary:
    members: int
    file_bytes: int
    """The sum of the regular files' sizes: what unpacking writes at least."""
    has_init: bool


def _relative(name: str) -> str | None:
    """The member's path inside the root, ``""`` for the root itself; ``None`` if it escapes."""
    path = posixpath.normpath("/" + name).lstrip("/")
    if ".." in name.split("/"):
        return None
    return "" if path == "." else path


def _parents(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


def resolves(names: set[str], links: dict[str, str], path: str, hops: int = 0) -> bool:
    """Whether ``path`` exists in the image, following its symbolic links as the container
    would (an absolute target is relative to the container's root, never the host's)."""
    parts = [p for p in path.split("/") if p not in ("", ".")]
    for i in range(len(parts)):
        head = "/".join(parts[: i + 1])
        if head in links:
            if hops >= MAX_LINK_HOPS:
                return False
            target = links[head]
            base = [] if target.startswith("/") else parts[:i]
            joined = posixpath.normpath("/" + "/".join([*base, target, *parts[i + 1 :]]))
            return resolves(names, links, joined.lstrip("/"), hops + 1)
    return "/".join(parts) in names


def inspect_image(path: Path, init: str = INIT) -> RootfsSummary:
    """Read the headers of the (possibly compressed) tar at ``path``; raises
    :class:`DriverError` if it cannot be a container's root filesystem."""
    if not path.is_file():
        raise DriverError(f"image {path} not found")
    names: set[str] = set()
    links: dict[str, str] = {}
    total = members = 0
    try:
        with tarfile.open(path, mode="r:*") as archive:
            for member in archive:
                members += 1
                name = _relative(member.name)
                if name is None:
                    raise DriverError(f"image member {member.name!r} leaves the root filesystem")
                if not name:
                    continue
                names.add(name)
                names.update(_parents(name))
                if member.issym():
                    links[name] = member.linkname
                elif member.isfile():
                    total += member.size
    except (tarfile.TarError, OSError, EOFError, zlib.error, lzma.LZMAError) as exc:
        raise DriverError(f"not a readable tar image: {exc}") from exc
    return RootfsSummary(members, total, resolves(names, links, init))
