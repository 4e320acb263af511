"""Downloading an image into the cache: streamed to disk, resumable with HTTP Range, paced,
and verified against its digest before it may be used."""

from __future__ import annotations

import asyncio
import hashlib
import os
from pathlib import Path
from typing import Any

import httpx

from guificloud.boxes import DistroSpec
from guificloud.logging import get_logger
from guificloud_agent.backoff import Backoff
from guificloud_agent.cache import BlobCache, feed_file
from guificloud_agent.failures import DeployFailed
from guificloud_agent.ratelimit import RateLimiter

log = get_logger(__name__)


class _Transient(Exception):
    """The link dropped or the server had a moment: resume from the partial file."""


async def fetch_image(
    http: httpx.AsyncClient,
    spec: DistroSpec,
    cache: BlobCache,
    *,
    rate_limit_bps: int | None = None,
    attempts: int = 5,
) -> Path:
    """The verified blob of ``spec`` in the cache; raises :class:`DeployFailed`."""
    backoff = Backoff(0.5, 8.0)
    for attempt in range(1, attempts + 1):
        try:
            return await _download(http, spec, cache, RateLimiter(rate_limit_bps))
        except _Transient as exc:
            if attempt == attempts:
                raise DeployFailed(f"download of {spec.url} failed: {exc}") from exc
            delay = backoff.next()
            log.warning(
                "download.retry",
                digest=spec.digest,
                error=str(exc),
                attempt=attempt,
                retry_in_s=round(delay, 2),
            )
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")


def _resume_point(partial: Path, spec: DistroSpec) -> int:
    offset = partial.stat().st_size if partial.exists() else 0
    if spec.size and offset > spec.size:
        partial.unlink()
        return 0
    return offset


async def _download(
    http: httpx.AsyncClient, spec: DistroSpec, cache: BlobCache, limiter: RateLimiter
) -> Path:
    partial = cache.partial(spec.digest)
    offset = _resume_point(partial, spec)
    hasher: Any = hashlib.sha256()
    if offset:
        await asyncio.to_thread(feed_file, hasher, partial)
    headers = {"Range": f"bytes={offset}-"} if offset else {}
    log.info("download.started", digest=spec.digest, url=spec.url, offset=offset)
    try:
        async with http.stream("GET", spec.url, headers=headers) as response:
            status = response.status_code
            if status == 416 and offset:
                log.info("download.already_complete", digest=spec.digest, offset=offset)
            elif status == 206 and not _resumes_at(response, offset):
                partial.unlink(missing_ok=True)
                raise _Transient("image server resumed at another offset; starting over")
            elif status in (200, 206):
                if status == 200:
                    offset, hasher = 0, hashlib.sha256()
                await _write(response, partial, offset, spec.size, hasher, limiter)
            elif status >= 500 or status in (408, 429):
                raise _Transient(f"image server answered {status}")
            else:
                raise DeployFailed(f"image not available at {spec.url}: HTTP {status}")
    except httpx.TransportError as exc:
        raise _Transient(f"{type(exc).__name__}: {exc}") from exc
    actual = f"sha256:{hasher.hexdigest()}"
    if actual != spec.digest:
        cache.discard(spec.digest)
        raise DeployFailed(f"digest mismatch: expected {spec.digest} got {actual}")
    log.info("download.verified", digest=spec.digest, size=partial.stat().st_size)
    return cache.promote(spec.digest)


def _resumes_at(response: httpx.Response, offset: int) -> bool:
    """A 206 must continue exactly where the partial file ends."""
    return str(response.headers.get("Content-Range", "")).startswith(f"bytes {offset}-")


async def _write(
    response: httpx.Response,
    partial: Path,
    offset: int,
    expected_size: int,
    hasher: Any,
    limiter: RateLimiter,
) -> None:
    """Append from ``offset`` (truncating at 0), never more than the announced size."""
    written = offset
    with partial.open("ab" if offset else "wb") as f:
        async for chunk in response.aiter_bytes(limiter.chunk_size):
            f.write(chunk)
            hasher.update(chunk)
            written += len(chunk)
            if expected_size and written > expected_size:
                break  # too long: the digest check refuses it
            await limiter.consume(len(chunk))
        f.flush()
        os.fsync(f.fileno())
