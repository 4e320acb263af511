"""``POST /api/v1/gc``: collect garbage now (operator only)."""

from __future__ import annotations

from fastapi import APIRouter

from guificloud.http import AdminDep
from guificloud_imagestore.deps import BlobsDep
from guificloud_imagestore.gc import collect
from guificloud_imagestore.runtime import ImagestoreRuntimeDep
from guificloud_imagestore.schemas import GcReport

router = APIRouter(prefix="/api/v1", tags=["gc"])


@router.post("/gc", response_model=GcReport, dependencies=[AdminDep])
async def collect_now(runtime: ImagestoreRuntimeDep, blobs: BlobsDep) -> GcReport:
    """Delete blobs no image names and nothing uses, expired uploads and their leftovers."""
    return await collect(runtime, blobs)
