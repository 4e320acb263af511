"""Garbage collection: blobs no image names and no box, slice or sliver uses, leftovers of
uploads, and old tombstones of deleted slices and slivers.

Runs in the background every ``gc_interval_s`` (and on ``POST /api/v1/gc``). Deciding and
deleting blobs happens under the exclusive blobs lock (see ``locks``), so a blob being
filed for a new image is never taken.
"""

from __future__ import annotations

import asyncio
import contextlib

from guificloud.logging import get_logger
from guificloud_imagestore import uploads
from guificloud_imagestore.blobs import BlobStore
from guificloud_imagestore.commands import referenced_digests
from guificloud_imagestore.locks import own_blobs
from guificloud_imagestore.runtime import ImagestoreRuntime
from guificloud_imagestore.schemas import GcReport
from guificloud_imagestore.slice_usage import prune_tombstones
from guificloud_imagestore.usage import used_digests

log = get_logger(__name__)


async def remove_upload_leftovers(runtime: ImagestoreRuntime, blobs: BlobStore) -> tuple[int, int]:
    """Expired sessions (with their bytes), session files without a session, and stale
    single-request uploads; returns (expired sessions, files removed)."""
    settings = runtime.settings
    async with runtime.uow() as uow:
        expired = await uploads.expire(uow)
    removed = 0
    for session_id in expired:
        blobs.session_path(session_id).unlink(missing_ok=True)
        removed += 1
    files = await asyncio.to_thread(blobs.session_files)  # listed before the sessions are read
    async with runtime.uow() as uow:
        live = await uploads.live_sessions(uow, set(files))
    for session_id, path in files.items():
        if session_id not in live:
            path.unlink(missing_ok=True)
            removed += 1
    removed += await asyncio.to_thread(blobs.remove_stale_parts, settings.stale_upload_s)
    return len(expired), removed


async def collect(runtime: ImagestoreRuntime, blobs: BlobStore) -> GcReport:
    expired, removed_uploads = await remove_upload_leftovers(runtime, blobs)
    async with runtime.uow() as uow:
        await own_blobs(uow)
        keep = await referenced_digests(uow) | await used_digests(uow)
        on_disk = await asyncio.to_thread(blobs.digests)
        garbage = sorted(on_disk - keep)
        for digest in garbage:
            await asyncio.to_thread(blobs.remove, digest)
        await uow.commit()
    async with runtime.uow() as uow:
        pruned = await prune_tombstones(uow)
        await uow.commit()
    report = GcReport(
        removed_blobs=garbage,
        kept_blobs=len(on_disk) - len(garbage),
        expired_sessions=expired,
        removed_uploads=removed_uploads,
        pruned_usage=pruned,
    )
    if garbage or expired or removed_uploads or pruned:
        log.info("gc.collected", **report.model_dump())
    return report


async def collect_garbage(runtime: ImagestoreRuntime, stop: asyncio.Event) -> None:
    """Background loop: collect at start, then every ``gc_interval_s``."""
    settings, blobs = runtime.settings, runtime.resources.blobs
    while not stop.is_set():
        try:
            await collect(runtime, blobs)
        except Exception as exc:  # noqa: BLE001 - logged; the next round tries again
            log.error("gc.failed", error=repr(exc))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), settings.gc_interval_s)
