"""Content-addressed blobs on disk: ``<root>/sha256/<hex>``, written once, never changed.

An upload is streamed to ``<root>/uploads/`` while it is hashed, synced, and renamed into
place atomically: a reader sees a whole blob or none, and a crash leaves only a stray file
in ``uploads/`` (cleared at a later start-up).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import time
from collections.abc import AsyncIterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from uuid import uuid4

from guificloud.errors import DomainError, InvalidInput
from guificloud.logging import get_logger

log = get_logger(__name__)

DIGEST_RE = re.compile(r"^sha256:([0-9a-f]{64})$")
WRITE_BUFFER = 1024 * 1024
STALE_UPLOAD_S = 3600.0


class TooLarge(DomainError):
    status_code = 413


@dataclass(frozen=True)
class Blob:
    digest: str
    size: int
    path: Path


def blob_url(digest: str) -> str:
    """Where a blob is downloaded, relative to the image store (events carry this form)."""
    return f"/api/v1/blobs/{digest}"


def parse_digest(value: str, *, field: str = "digest") -> str:
    """The hex part of ``sha256:<hex>``; anything else is the caller's mistake."""
    match = DIGEST_RE.match(value)
    if match is None:
        raise InvalidInput(f"{field} must be 'sha256:' and 64 lowercase hex digits", field=field)
    return match.group(1)


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.blobs = root / "sha256"
        self.uploads = root / "uploads"

    def prepare(self) -> None:
        """Create the folders and drop uploads a crash left half-written.

        Only those untouched for ``STALE_UPLOAD_S``: another instance sharing the folder may
        be writing the fresh ones."""
        self.blobs.mkdir(parents=True, exist_ok=True)
        self.uploads.mkdir(parents=True, exist_ok=True)
        cutoff = time.time() - STALE_UPLOAD_S
        for stray in self.uploads.iterdir():
            if stray.stat().st_mtime < cutoff:
                stray.unlink(missing_ok=True)
                log.info("blob.stray_upload_removed", path=str(stray))

    def path_of(self, digest: str) -> Path:
        return self.blobs / parse_digest(digest)

    def find(self, digest: str) -> Path | None:
        path = self.path_of(digest)
        return path if path.is_file() else None

    async def store(
        self, chunks: AsyncIterable[bytes], *, expected: str | None, max_bytes: int
    ) -> Blob:
        """Stream ``chunks`` to disk, hashing as they come, and file the blob under its digest.

        Holds at most ``WRITE_BUFFER`` bytes in memory. Refuses an empty body, one above
        ``max_bytes`` and one whose digest is not ``expected``; nothing is left behind then.
        """
        tmp = self.uploads / f"{uuid4().hex}.part"
        sha = hashlib.sha256()
        size = 0
        buffer = bytearray()
        try:
            with open(tmp, "wb") as out:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > max_bytes:
                        raise TooLarge(f"image larger than {max_bytes} bytes", field="body")
                    buffer += chunk
                    if len(buffer) >= WRITE_BUFFER:
                        await asyncio.to_thread(_write, out, sha, bytes(buffer))
                        buffer.clear()
                await asyncio.to_thread(_write, out, sha, bytes(buffer), sync=True)
            if size == 0:
                raise InvalidInput("the request body (the image) is empty", field="body")
            digest = f"sha256:{sha.hexdigest()}"
            if expected is not None and expected != digest:
                raise InvalidInput(
                    f"digest mismatch: the body hashes to {digest}, not {expected}", field="digest"
                )
            path = self.blobs / sha.hexdigest()
            kept = await asyncio.to_thread(self._file, tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        log.info("blob.stored", digest=digest, size=size, already_present=kept)
        return Blob(digest=digest, size=size, path=path)

    def _file(self, tmp: Path, path: Path) -> bool:
        """Rename into place; True when the same bytes were already there (kept as they are)."""
        if path.is_file():
            return True
        os.replace(tmp, path)
        fd = os.open(self.blobs, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        return False


def _write(out: BinaryIO, sha: hashlib._Hash, data: bytes, *, sync: bool = False) -> None:
    sha.update(data)
    out.write(data)
    if sync:
        out.flush()
        os.fsync(out.fileno())
