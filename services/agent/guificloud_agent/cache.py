"""The box's image cache, keyed by digest: ``blobs/sha256/<hex>`` once verified, with
``<hex>.partial`` beside it while downloading (kept across restarts so downloads resume).

One download per digest at a time: whoever needs a blob takes :meth:`BlobCache.lock` first,
so the platform and several slivers of one image share one download. A *shared* cache (one
for all simulated agents of a fleet process) never prunes: other agents may need any blob;
only verified blobs are ever kept in it, so sharing them is honest.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from guificloud.logging import get_logger

log = get_logger(__name__)

READ_CHUNK = 1024 * 1024


def feed_file(hasher: Any, path: Path) -> None:
    """Hash a file into ``hasher`` in chunks; never reads it whole."""
    with path.open("rb") as f:
        while chunk := f.read(READ_CHUNK):
            hasher.update(chunk)


def file_digest(path: Path) -> str:
    hasher = hashlib.sha256()
    feed_file(hasher, path)
    return f"sha256:{hasher.hexdigest()}"


class BlobCache:
    def __init__(self, root: Path, *, shared: bool = False) -> None:
        self.dir = root / "blobs" / "sha256"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.shared = shared
        self._verified: set[str] = set()
        self._locks: dict[str, asyncio.Lock] = {}

    def lock(self, digest: str) -> asyncio.Lock:
        """Held while a blob is looked up or downloaded: one download per digest."""
        return self._locks.setdefault(digest, asyncio.Lock())

    def path(self, digest: str) -> Path:
        return self.dir / digest.removeprefix("sha256:")

    def partial(self, digest: str) -> Path:
        return self.dir / f"{digest.removeprefix('sha256:')}.partial"

    async def verified(self, digest: str) -> Path | None:
        """The cached blob if it is there and its bytes match (hashed once per process)."""
        path = self.path(digest)
        if not path.is_file():
            return None
        if digest not in self._verified:
            actual = await asyncio.to_thread(file_digest, path)
            if actual != digest:
                log.warning("cache.corrupt", digest=digest, actual=actual)
                path.unlink(missing_ok=True)
                return None
            self._verified.add(digest)
        return path

    def promote(self, digest: str) -> Path:
        """Move a fully verified partial into place, atomically."""
        final = self.path(digest)
        os.replace(self.partial(digest), final)
        self._verified.add(digest)
        return final

    def prune(self, keep: Iterable[str]) -> None:
        """Drop every blob and partial but those of ``keep``: a box's disk is small, and the
        platform no longer needs an image once its container is made from it (the desired
        slivers' images are kept: a reset makes them again)."""
        if self.shared:
            return
        kept = set(keep)
        names = {d.removeprefix("sha256:") for d in kept}
        names |= {f"{n}.partial" for n in names}
        for path in self.dir.iterdir():
            if path.name not in names:
                path.unlink(missing_ok=True)
                log.info("cache.pruned", blob=path.name)
        self._verified &= kept

    def discard(self, digest: str) -> None:
        """Drop a blob nobody here may use (refused or corrupt); a shared cache drops only
        the partial: its verified blob may serve another agent."""
        self.partial(digest).unlink(missing_ok=True)
        if self.shared:
            return
        self.path(digest).unlink(missing_ok=True)
        self._verified.discard(digest)
