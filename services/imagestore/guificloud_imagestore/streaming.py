"""Writing a stream to a file while hashing it, off the event loop.

Blocks of ``BLOCK`` bytes are written and hashed in a worker thread while the next block is
received (hashlib and file writes release the GIL): the transfer runs at the speed of the
slower of the network and the disk, not of their sum. At most two blocks are in memory.

The final fsync (a blob must be on disk before it is filed under its digest) would wait for
every byte still in the page cache; so, on Linux, the disk is asked to start writing each
``WRITEBACK_WINDOW`` as soon as it is complete (``sync_file_range``, which does not wait),
and the fsync finds little left to do.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import hashlib
import os
import sys
from collections.abc import Callable
from functools import cache
from typing import BinaryIO

BLOCK = 4 * 1024 * 1024
WRITEBACK_WINDOW = 32 * 1024 * 1024
SYNC_FILE_RANGE_WRITE = 2

Writeback = Callable[[int, int, int], int]


@cache
def writeback() -> Writeback | None:
    """``sync_file_range(fd, offset, length, SYNC_FILE_RANGE_WRITE)``, where there is one."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        call = libc.sync_file_range
    except (OSError, AttributeError):
        return None
    call.argtypes = [ctypes.c_int, ctypes.c_longlong, ctypes.c_longlong, ctypes.c_uint]
    call.restype = ctypes.c_int

    def start(fd: int, offset: int, length: int) -> int:
        return int(call(fd, offset, length, SYNC_FILE_RANGE_WRITE))

    return start


def new_hash() -> hashlib._Hash:
    return hashlib.sha256()


class HashingWriter:
    def __init__(self, out: BinaryIO, sha: hashlib._Hash, *, block: int = BLOCK) -> None:
        self.out = out
        self.sha = sha
        self.block = block
        self.written = 0
        """Bytes handed to the file so far (by this writer), buffered ones excluded."""
        self._base = out.tell()
        self._kicked = 0
        self._writeback = writeback()
        self._buffer = bytearray()
        self._inflight: asyncio.Future[None] | None = None

    @property
    def received(self) -> int:
        return self.written + len(self._buffer)

    async def write(self, chunk: bytes) -> None:
        self._buffer += chunk
        if len(self._buffer) >= self.block:
            await self._hand_off()

    async def _hand_off(self) -> None:
        if self._inflight is not None:
            await self._inflight
            self._inflight = None
        data, self._buffer = self._buffer, bytearray()
        if data:
            self._inflight = asyncio.ensure_future(asyncio.to_thread(self._write, data))

    def _write(self, data: bytearray) -> None:
        self.sha.update(data)
        self.out.write(data)
        self.written += len(data)
        pending = self.written - self._kicked
        if self._writeback is not None and pending >= WRITEBACK_WINDOW:
            self.out.flush()
            self._writeback(self.out.fileno(), self._base + self._kicked, pending)
            self._kicked = self.written

    async def finish(self, *, sync: bool = True) -> None:
        """Write what is buffered, wait for the worker, and make it durable (fsync)."""
        await self._hand_off()
        await self.drain()
        if sync:
            await asyncio.to_thread(_sync, self.out)

    async def drain(self) -> None:
        """Wait for the block in flight, if any (also after a failure, before clean-up)."""
        if self._inflight is not None:
            inflight, self._inflight = self._inflight, None
            await inflight


def _sync(out: BinaryIO) -> None:
    out.flush()
    os.fsync(out.fileno())


def fsync_dir(path: os.PathLike[str] | str) -> None:
    """Make a rename or link in ``path`` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def hash_file(path: os.PathLike[str] | str, *, length: int | None = None) -> hashlib._Hash:
    """The sha256 state of the first ``length`` bytes of ``path`` (all of it when None)."""
    sha = new_hash()
    remaining = length
    with open(path, "rb") as f:
        while remaining is None or remaining > 0:
            want = BLOCK if remaining is None else min(BLOCK, remaining)
            data = f.read(want)
            if not data:
                break
            sha.update(data)
            if remaining is not None:
                remaining -= len(data)
    return sha
