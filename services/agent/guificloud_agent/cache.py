"""The box's image cache, keyed by digest: ``blobs/sha256/<hex>`` once verified, with
``<hex>.partial`` beside it while downloading (kept across restarts so downloads resume)."""

from __future__ import annotations

import asyncio
import hashlib
import os
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
    def __init__(self, root: Path) -> None:
        self.dir = root / "blobs" / "sha256"
        self.dir.mkdir(parents=True, exist_ok=True)
        self._verified: set[str] = set()

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

    def prune(self, keep: str) -> None:
        """Drop every blob and partial but ``keep``'s: a box's disk is small, and the
        platform no longer needs an image once its container is made from it."""
        name = keep.removeprefix("sha256:")
        for path in self.dir.iterdir():
            if path.name not in (name, f"{name}.partial"):
                path.unlink(missing_ok=True)
                log.info("cache.pruned", blob=path.name)
        self._verified &= {keep}

    def discard(self, digest: str) -> None:
        self.partial(digest).unlink(missing_ok=True)
        self.path(digest).unlink(missing_ok=True)
        self._verified.discard(digest)
