"""Is an uploaded file the archive its format says? Checked once its bytes are on disk.

Only the start is read: the compression's magic bytes and the header of the first member,
which is what a box would fail on first. A refusal says what the bytes look like instead
(a PNG uploaded as ``tar.gz``, say), so the publisher sees the mistake at once.
"""

from __future__ import annotations

import asyncio
import tarfile
from pathlib import Path
from typing import Literal

from guificloud.errors import InvalidInput

MODES: dict[str, Literal["r:", "r:gz", "r:xz"]] = {"tar": "r:", "tar.gz": "r:gz", "tar.xz": "r:xz"}
SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x1f\x8b", "gzip data"),
    (b"\xfd7zXZ\x00", "xz data"),
    (b"\x28\xb5\x2f\xfd", "zstd data"),
    (b"BZh", "bzip2 data"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"PK\x03\x04", "a zip archive"),
    (b"%PDF", "a PDF document"),
    (b"\x7fELF", "an ELF executable"),
    (b"SQLite format 3", "an SQLite database"),
)


def looks_like(head: bytes) -> str:
    for magic, what in SIGNATURES:
        if head.startswith(magic):
            return what
    if len(head) > 262 and head[257:262] == b"ustar":
        return "a plain tar archive"
    return "unrecognised data"


def check_archive_sync(path: Path, format: str) -> None:
    try:
        with tarfile.open(path, MODES[format]) as archive:
            first = archive.next()
    except (tarfile.TarError, EOFError, OSError) as exc:
        reason = str(exc)
    else:
        if first is not None:
            return
        reason = "it holds no files"
    with open(path, "rb") as f:
        head = f.read(512)
    raise InvalidInput(
        f"the body is not a {format} archive: it looks like {looks_like(head)} ({reason})",
        field="body",
    )


async def check_archive(path: Path, format: str) -> None:
    """422 on ``body`` unless ``path`` opens as ``format`` with a first member."""
    await asyncio.to_thread(check_archive_sync, path, format)
