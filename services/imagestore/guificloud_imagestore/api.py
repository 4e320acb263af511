"""The image store's HTTP API under ``/api/v1``: images, and the blobs they are made of."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, FastAPI, Query, Request
from starlette.requests import ClientDisconnect

from guificloud.boxes import DIGEST_PATTERN
from guificloud.errors import DomainError, InvalidInput
from guificloud.http import RuntimeDep, UowDep, create_base_app
from guificloud.logging import get_logger
from guificloud.runtime import Runtime
from guificloud_imagestore import commands, downloads
from guificloud_imagestore.blobs import BlobStore, blob_url
from guificloud_imagestore.deps import BlobsDep
from guificloud_imagestore.models import Image
from guificloud_imagestore.schemas import Arch, ImageMeta, ImageOut
from guificloud_imagestore.settings import ImagestoreSettings

log = get_logger(__name__)

router = APIRouter(prefix="/api/v1")

UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "description": "The image's bytes, streamed as they are (not multipart)",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


class UnsupportedMedia(DomainError):
    status_code = 415


def image_out(image: Image, request: Request) -> ImageOut:
    """The image as JSON, with its blob's URL both relative and as this request reached us."""
    url = blob_url(image.digest)
    return ImageOut(
        id=image.id,
        name=image.name,
        version=image.version,
        arch=image.arch,
        format=image.format,
        channel=image.channel,
        digest=image.digest,
        size=image.size,
        state=image.state,
        created_at=image.created_at,
        published_at=image.published_at,
        url=url,
        download_url=str(request.base_url).rstrip("/") + url,
    )


@router.post(
    "/images", status_code=201, response_model=ImageOut, tags=["images"], openapi_extra=UPLOAD_BODY
)
async def upload_image(
    request: Request,
    runtime: RuntimeDep,
    blobs: BlobsDep,
    meta: Annotated[ImageMeta, Query()],
    digest: Annotated[
        str | None, Query(pattern=DIGEST_PATTERN, description="sha256 the body must hash to")
    ] = None,
) -> ImageOut:
    """Publish a new image version from the raw bytes of the request body.

    The body is streamed to disk while hashed, never held whole in memory. The same
    (name, version, arch) twice is refused with 409: a published version is immutable.
    No transaction stays open during the transfer: one checks before, one records after."""
    if request.headers.get("content-type", "").startswith("multipart/"):
        raise UnsupportedMedia(
            "send the image's bytes as the body (application/octet-stream), "
            "not as a multipart form",
            field="body",
        )
    async with runtime.uow() as uow:
        await commands.ensure_unpublished(uow, meta)
    settings = runtime.settings
    assert isinstance(settings, ImagestoreSettings)
    try:
        blob = await blobs.store(
            request.stream(), expected=digest, max_bytes=settings.max_image_bytes
        )
    except ClientDisconnect as exc:
        log.warning("image.upload_interrupted", name=meta.name, version=meta.version)
        raise InvalidInput("the upload was interrupted", field="body") from exc
    async with runtime.uow() as uow:
        image = await commands.publish_image(uow, meta, blob)
        return image_out(image, request)


@router.get("/images", response_model=list[ImageOut], tags=["images"])
async def list_images(
    request: Request,
    uow: UowDep,
    name: str | None = None,
    version: str | None = None,
    channel: str | None = None,
    arch: Arch | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[ImageOut]:
    """Images, newest first."""
    images = await commands.list_images(
        uow, name=name, version=version, channel=channel, arch=arch, limit=limit
    )
    return [image_out(image, request) for image in images]


@router.get("/images/{image_id}", response_model=ImageOut, tags=["images"])
async def get_image(image_id: UUID, request: Request, uow: UowDep) -> ImageOut:
    return image_out(await commands.get_image(uow, image_id), request)


def create_app(runtime: Runtime) -> FastAPI:
    settings = runtime.settings
    assert isinstance(settings, ImagestoreSettings)
    blobs = BlobStore(settings.blob_root)
    blobs.prepare()
    app = create_base_app(
        runtime,
        title="guifi-cloud imagestore",
        description=(
            "Images (name, version, arch, format, channel) and the content-addressed blobs "
            "they are made of. Upload streams the raw body; download supports HTTP Range so "
            "a box on a weak link can resume. Events carry blob URLs relative to this service."
        ),
    )
    app.state.blobs = blobs
    app.include_router(router)
    app.include_router(downloads.router)
    return app
