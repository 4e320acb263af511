"""The bytes of upload sessions: ``uploads/<id>.session``, appended to and hashed on the way.

The sha256 state of a session is kept in this process between its requests (a small LRU),
so a whole upload is hashed once. A request that finds no state for the session's offset
(another instance took the previous chunk, or this one restarted) hashes the stored prefix
again: bytes below the recorded offset never change, those past it are cut off first.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
from collections import OrderedDict
from collections.abc import AsyncIterable, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from uuid import UUID

from starlette.requests import ClientDisconnect

from guificloud.errors import Conflict, TooLarge
from guificloud.logging import get_logger
from guificloud_imagestore.streaming import HashingWriter, hash_file

log = get_logger(__name__)

CACHED_STATES = 64


class HashStates:
    """session id -> (offset, sha256 of the bytes below it); the last ``CACHED_STATES``."""

    def __init__(self, capacity: int = CACHED_STATES) -> None:
        self.capacity = capacity
        self._states: OrderedDict[UUID, tuple[int, hashlib._Hash]] = OrderedDict()

    def take(self, session_id: UUID, offset: int) -> hashlib._Hash | None:
        found = self._states.pop(session_id, None)
        return found[1] if found is not None and found[0] == offset else None

    def put(self, session_id: UUID, offset: int, sha: hashlib._Hash) -> None:
        self._states[session_id] = (offset, sha)
        self._states.move_to_end(session_id)
        while len(self._states) > self.capacity:
            self._states.popitem(last=False)

    def drop(self, session_id: UUID) -> None:
        self._states.pop(session_id, None)


class BytesLost(Conflict):
    """The session's file is shorter than its recorded offset: it cannot be completed."""


@dataclass(frozen=True)
class Appended:
    offset: int
    disconnected: bool


def _open_at(path: Path, offset: int) -> BinaryIO:
    """The session file, cut to ``offset`` and positioned there."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    out = os.fdopen(fd, "r+b")
    try:
        length = os.fstat(fd).st_size
        if length < offset:
            raise BytesLost(
                f"the stored bytes of this upload are gone ({length} of {offset}); "
                "cancel it and upload again"
            )
        out.truncate(offset)
        out.seek(offset)
    except BaseException:
        out.close()
        raise
    return out


async def append(
    path: Path,
    states: HashStates,
    session_id: UUID,
    *,
    offset: int,
    size: int,
    chunks: AsyncIterable[bytes],
    renew: Callable[[], Awaitable[None]],
    renew_every_s: float,
) -> Appended:
    """Append ``chunks`` at ``offset``; what arrived before a disconnect is kept.

    Refuses bytes past ``size`` (413) and leaves the file as it was then."""
    sha = states.take(session_id, offset)
    out = await asyncio.to_thread(_open_at, path, offset)
    try:
        if sha is None:
            sha = await asyncio.to_thread(hash_file, path, length=offset)
        writer = HashingWriter(out, sha)
        disconnected = False
        next_renewal = time.monotonic() + renew_every_s
        try:
            try:
                async for chunk in chunks:
                    if offset + writer.received + len(chunk) > size:
                        raise TooLarge(
                            f"more bytes than the {size} this upload declared", field="body"
                        )
                    await writer.write(chunk)
                    if time.monotonic() >= next_renewal:
                        await renew()
                        next_renewal = time.monotonic() + renew_every_s
            except ClientDisconnect:
                disconnected = True
            await writer.finish()
        except BaseException:
            await writer.drain()
            await asyncio.to_thread(out.truncate, offset)
            states.drop(session_id)
            raise
    finally:
        out.close()
    new_offset = offset + writer.written
    states.put(session_id, new_offset, sha)
    return Appended(offset=new_offset, disconnected=disconnected)


async def digest_of(path: Path, states: HashStates, session_id: UUID, size: int) -> str:
    """The digest of a finished session: from its kept state, else by hashing the file."""
    length = await asyncio.to_thread(_length, path)
    if length != size:
        raise BytesLost(f"the stored bytes of this upload are gone ({length} of {size})")
    sha = states.take(session_id, size)
    if sha is None:
        sha = await asyncio.to_thread(hash_file, path, length=size)
    return f"sha256:{sha.hexdigest()}"


def _length(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0
