"""Request dependencies of the image store's API."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from guificloud_imagestore.blobs import BlobStore


def get_blobs(request: Request) -> BlobStore:
    blobs: BlobStore = request.app.state.blobs
    return blobs


BlobsDep = Annotated[BlobStore, Depends(get_blobs)]
