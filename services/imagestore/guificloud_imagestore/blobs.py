"""Content-addressed blobs on disk: ``<root>/sha256/<hex>``, written once, never changed.

Bytes arrive in ``<root>/uploads/`` (``<uuid>.part`` for a single-request upload,
``<session>.session`` for a resumable one), hashed on the way and synced; a finished upload
is hard-linked (or renamed) into place, which is atomic: a reader, or a crash, sees a whole
blob or none. The same bytes are stored once however many images name them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import time
from collections.abc import AsyncIterable
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID, uuid4

from guificloud.errors import InvalidInput, TooLarge
from guificloud.logging import get_logger
from guificloud_imagestore.streaming import HashingWriter, fsync_dir, new_hash

log = get_logger(__name__)

DIGEST_RE = re.compile(r"^sha256:([0-9a-f]{64})$")
HEX_RE = re.compile(r"^[0-9a-f]{64}$")
PART = ".part"
SESSION = ".session"


@dataclass(frozen=True)
class Staged:
    """Bytes received, synced and hashed, not yet filed under their digest."""

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

    def prepare(self, *, stale_s: float) -> None:
        """Create the folders and drop single-request uploads a crash left half-written.

        Only those untouched for ``stale_s``: another instance sharing the folder may be
        writing the fresh ones. Session files are the garbage collector's (see ``gc``)."""
        self.blobs.mkdir(parents=True, exist_ok=True)
        self.uploads.mkdir(parents=True, exist_ok=True)
        self.remove_stale_parts(stale_s)

    def remove_stale_parts(self, stale_s: float) -> int:
        cutoff = time.time() - stale_s
        removed = 0
        for stray in self.uploads.glob(f"*{PART}"):
            with contextlib.suppress(FileNotFoundError):
                if stray.stat().st_mtime < cutoff:
                    stray.unlink()
                    removed += 1
                    log.info("blob.stray_upload_removed", path=str(stray))
        return removed

    def path_of(self, digest: str) -> Path:
        return self.blobs / parse_digest(digest)

    def find(self, digest: str) -> Path | None:
        path = self.path_of(digest)
        return path if path.is_file() else None

    def session_path(self, session_id: UUID) -> Path:
        return self.uploads / f"{session_id}{SESSION}"

    def session_files(self) -> dict[UUID, Path]:
        found: dict[UUID, Path] = {}
        for path in self.uploads.glob(f"*{SESSION}"):
            with contextlib.suppress(ValueError):
                found[UUID(path.name.removesuffix(SESSION))] = path
        return found

    def digests(self) -> set[str]:
        return {f"sha256:{p.name}" for p in self.blobs.iterdir() if HEX_RE.match(p.name)}

    def remove(self, digest: str) -> None:
        self.path_of(digest).unlink(missing_ok=True)

    async def stage(
        self, chunks: AsyncIterable[bytes], *, expected: str | None, max_bytes: int
    ) -> Staged:
        """Stream ``chunks`` to a new file in ``uploads/``, hashing as they come.

        Refuses an empty body, one above ``max_bytes`` and one whose digest is not
        ``expected``; nothing is left behind then. The caller files the result with
        :meth:`file` and removes the staged file afterwards."""
        tmp = self.uploads / f"{uuid4().hex}{PART}"
        try:
            with open(tmp, "wb") as out:
                writer = HashingWriter(out, new_hash())
                try:
                    async for chunk in chunks:
                        if writer.received + len(chunk) > max_bytes:
                            raise TooLarge(f"image larger than {max_bytes} bytes", field="body")
                        await writer.write(chunk)
                    await writer.finish()
                finally:
                    await writer.drain()
            if writer.written == 0:
                raise InvalidInput("the request body (the image) is empty", field="body")
            digest = f"sha256:{writer.sha.hexdigest()}"
            if expected is not None and expected != digest:
                raise InvalidInput(
                    f"digest mismatch: the body hashes to {digest}, not {expected}", field="digest"
                )
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return Staged(digest=digest, size=writer.written, path=tmp)

    async def file(self, source: Path, digest: str) -> bool:
        """Put the synced file ``source`` in place as blob ``digest``; ``source`` stays.

        True when the same bytes were there already (kept as they are)."""
        return await asyncio.to_thread(self._file, source, self.path_of(digest))

    def _file(self, source: Path, path: Path) -> bool:
        if path.is_file():
            return True
        try:
            os.link(source, path)
        except FileExistsError:
            return True
        except OSError:  # a file system without hard links: take a copy's place instead
            tmp = self.uploads / f"{uuid4().hex}{PART}"
            _copy_synced(source, tmp)
            os.replace(tmp, path)
        fsync_dir(self.blobs)
        return False


def _copy_synced(source: Path, target: Path) -> None:
    with open(source, "rb") as src, open(target, "wb") as dst:
        while data := src.read(4 * 1024 * 1024):
            dst.write(data)
        dst.flush()
        os.fsync(dst.fileno())
