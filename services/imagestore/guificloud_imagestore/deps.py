"""Request dependencies of the image store's API."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from guificloud.auth import Principal, require_scope
from guificloud_imagestore.access import SCOPE
from guificloud_imagestore.blobs import BlobStore
from guificloud_imagestore.runtime import ImagestoreRuntimeDep
from guificloud_imagestore.session_files import HashStates
from guificloud_imagestore.settings import ImagestoreSettings


def get_blobs(runtime: ImagestoreRuntimeDep) -> BlobStore:
    return runtime.resources.blobs


def get_states(runtime: ImagestoreRuntimeDep) -> HashStates:
    return runtime.resources.hash_states


def get_settings(runtime: ImagestoreRuntimeDep) -> ImagestoreSettings:
    return runtime.settings


BlobsDep = Annotated[BlobStore, Depends(get_blobs)]
StatesDep = Annotated[HashStates, Depends(get_states)]
SettingsDep = Annotated[ImagestoreSettings, Depends(get_settings)]
PublisherDep = Annotated[Principal, Depends(require_scope(SCOPE))]
"""A caller whose token reaches ``images.publish``; the route checks the group's role."""
