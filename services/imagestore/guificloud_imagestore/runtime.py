"""The image store's runtime: its settings, and the blob store and upload hash states that the
API, the uploads and the garbage collector share (built once, at bootstrap)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from guificloud.http import get_runtime
from guificloud.runtime import Runtime
from guificloud_imagestore.blobs import BlobStore
from guificloud_imagestore.session_files import HashStates
from guificloud_imagestore.settings import ImagestoreSettings


@dataclass(frozen=True)
class ImagestoreResources:
    blobs: BlobStore
    hash_states: HashStates


def build_resources(settings: ImagestoreSettings) -> ImagestoreResources:
    blobs = BlobStore(settings.blob_root)
    blobs.prepare(stale_s=settings.stale_upload_s)
    return ImagestoreResources(blobs=blobs, hash_states=HashStates())


ImagestoreRuntime = Runtime[ImagestoreSettings, ImagestoreResources]
ImagestoreRuntimeDep = Annotated[ImagestoreRuntime, Depends(get_runtime)]
"""The runtime of the request's app, typed for this service's routes."""
