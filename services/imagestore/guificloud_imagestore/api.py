"""The image store's HTTP API under ``/api/v1``: images, uploads, keys, and blobs."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, FastAPI, Query, Request, Response
from starlette.requests import ClientDisconnect

from guificloud.boxes import DIGEST_PATTERN
from guificloud.errors import InvalidInput, UnsupportedMedia
from guificloud.http import UowDep, create_base_app
from guificloud.idempotency import StreamedIdempotencyDep, as_response
from guificloud.logging import get_logger
from guificloud.request_guard import allow_large_body
from guificloud_imagestore import (
    commands,
    downloads,
    gc_api,
    keys_api,
    uploads_api,
    usage_api,
)
from guificloud_imagestore.access import ensure_may_publish
from guificloud_imagestore.archives import check_archive
from guificloud_imagestore.deps import BlobsDep, PublisherDep, SettingsDep
from guificloud_imagestore.quota import ensure_image_quota
from guificloud_imagestore.runtime import ImagestoreRuntime, ImagestoreRuntimeDep
from guificloud_imagestore.schemas import (
    GROUP_DOC,
    KEY_ID_PATTERN,
    SIGNATURE_MAX,
    Arch,
    ImageMeta,
    ImageOut,
    State,
)
from guificloud_imagestore.signatures import check_signature
from guificloud_imagestore.views import image_out

log = get_logger(__name__)

router = APIRouter(prefix="/api/v1")

UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "description": "The image's bytes, streamed as they are (not multipart), at most "
        "GUIFICLOUD_IMAGESTORE_MAX_IMAGE_BYTES (16 GiB)",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


def refuse_multipart(request: Request) -> None:
    if request.headers.get("content-type", "").startswith("multipart/"):
        raise UnsupportedMedia(
            "send the image's bytes as the body (application/octet-stream), "
            "not as a multipart form",
            field="body",
        )


@router.post(
    "/images", status_code=201, response_model=ImageOut, tags=["images"], openapi_extra=UPLOAD_BODY
)
async def upload_image(
    request: Request,
    principal: PublisherDep,
    runtime: ImagestoreRuntimeDep,
    blobs: BlobsDep,
    settings: SettingsDep,
    meta: Annotated[ImageMeta, Query()],
    once: StreamedIdempotencyDep,
    digest: Annotated[
        str | None, Query(pattern=DIGEST_PATTERN, description="sha256 the body must hash to")
    ] = None,
    signature: Annotated[
        str | None, Query(min_length=1, max_length=SIGNATURE_MAX, description="ed25519, base64")
    ] = None,
    key_id: Annotated[
        str | None, Query(pattern=KEY_ID_PATTERN, description="The signing publisher key")
    ] = None,
    group_id: Annotated[UUID | None, Query(description=GROUP_DOC)] = None,
) -> Response:
    """Publish a new image version for ``group_id`` (publisher or group admin there, within
    its image quota) from the raw bytes of the request body, in one request.

    The body is streamed to disk while hashed, never held whole in memory. The same
    (name, version, arch) twice is refused with 409: a published version is immutable.
    What can be checked before the bytes (the version is free, the signing key is trusted)
    is. No transaction stays open during the transfer. For big images over weak links,
    use an upload session (``/api/v1/uploads``) instead: it resumes. With an
    ``Idempotency-Key``, a retry with the same bytes answers the first response."""
    ensure_may_publish(principal, group_id)
    refuse_multipart(request)
    required = settings.require_signature
    async with runtime.uow() as uow:
        if not await once.seen(uow):  # a retry of a published upload would fail these
            await commands.ensure_unpublished(uow, meta)
            await ensure_image_quota(uow, group_id)
            await check_signature(
                uow, meta, digest=digest, signature=signature, key_id=key_id, required=required
            )
    allow_large_body(request)  # bounded by max_image_bytes instead of 1 MiB
    try:
        staged = await blobs.stage(
            request.stream(), expected=digest, max_bytes=settings.max_image_bytes
        )
    except ClientDisconnect as exc:
        log.warning("image.upload_interrupted", name=meta.name, version=meta.version)
        raise InvalidInput("the upload was interrupted", field="body") from exc
    try:
        await check_archive(staged.path, meta.format)
        async with runtime.uow() as uow:

            async def make() -> Response:
                signed = await check_signature(
                    uow,
                    meta,
                    digest=staged.digest,
                    signature=signature,
                    key_id=key_id,
                    required=required,
                )
                image = await commands.publish_image(
                    uow, blobs, meta, staged, signed, group_id=group_id, by=principal.id
                )
                return as_response(image_out(image, request), 201)

            return await once.covering(staged.digest).run(uow, make)
    finally:
        staged.path.unlink(missing_ok=True)


@router.get("/images", response_model=list[ImageOut], tags=["images"])
async def list_images(
    request: Request,
    uow: UowDep,
    name: str | None = None,
    version: str | None = None,
    channel: str | None = None,
    arch: Arch | None = None,
    state: Annotated[
        State | None, Query(description="Default: active and deprecated images")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[ImageOut]:
    """Images, newest first."""
    images = await commands.list_images(
        uow, name=name, version=version, channel=channel, arch=arch, state=state, limit=limit
    )
    return [image_out(image, request) for image in images]


@router.get("/images/{image_id}", response_model=ImageOut, tags=["images"])
async def get_image(image_id: UUID, request: Request, uow: UowDep) -> ImageOut:
    return image_out(await commands.get_image(uow, image_id), request)


MANAGERS: dict[int | str, dict[str, Any]] = {
    403: {
        "description": "Not a publisher or group admin of the image's group (nor an operator; "
        "the deployment's images are theirs alone)"
    }
}


@router.post(
    "/images/{image_id}/deprecate", response_model=ImageOut, tags=["images"], responses=MANAGERS
)
async def deprecate_image(
    image_id: UUID, principal: PublisherDep, request: Request, uow: UowDep
) -> ImageOut:
    """Boxes that run it keep it; new deployments are offered newer images. For the
    publishers and group admins of its group, and operators."""
    return image_out(await commands.deprecate_image(uow, image_id, principal), request)


@router.delete(
    "/images/{image_id}",
    response_model=ImageOut,
    tags=["images"],
    responses={
        **MANAGERS,
        409: {"description": "Boxes or slices still use the image (``boxes``, ``slices``)"},
    },
)
async def delete_image(
    image_id: UUID, principal: PublisherDep, request: Request, uow: UowDep
) -> ImageOut:
    """Delete an image no box, slice or sliver uses (publishers and group admins of its group,
    operators); its blob is collected unless another image names it, and it no longer
    counts in its group's quota."""
    return image_out(await commands.delete_image(uow, image_id, principal), request)


def create_app(runtime: ImagestoreRuntime) -> FastAPI:
    app = create_base_app(
        runtime,
        title="guifi-cloud imagestore",
        description=(
            "Images (name, version, arch, format, channel), signed by trusted publisher keys, "
            "and the content-addressed blobs they are made of. Upload streams the raw body, in "
            "one request or as a resumable session; download supports HTTP Range so a box on "
            "a weak link can resume. Events carry blob URLs relative to this service."
        ),
    )
    for part in (
        router,
        usage_api.router,
        uploads_api.router,
        keys_api.router,
        gc_api.router,
        downloads.router,
    ):
        app.include_router(part)
    return app
