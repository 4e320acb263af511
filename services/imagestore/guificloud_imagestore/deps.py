"""Request dependencies of the image store's API."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from guificloud.http import get_runtime
from guificloud_imagestore.blobs import BlobStore
from guificloud_imagestore.session_files import HashStates
from guificloud_imagestore.settings import ImagestoreSettings


def get_blobs(request: Request) -> BlobStore:
    blobs: BlobStore = request.app.state.blobs
    return blobs


def get_states(request: Request) -> HashStates:
    states: HashStates = request.app.state.hash_states
    return states


def get_settings(request: Request) -> ImagestoreSettings:
    settings = get_runtime(request).settings
    assert isinstance(settings, ImagestoreSettings)
    return settings


BlobsDep = Annotated[BlobStore, Depends(get_blobs)]
StatesDep = Annotated[HashStates, Depends(get_states)]
SettingsDep = Annotated[ImagestoreSettings, Depends(get_settings)]
