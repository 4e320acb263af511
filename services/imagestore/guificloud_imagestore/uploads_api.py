"""Resumable uploads (``/api/v1/uploads``), for big images over weak links.

    POST   /uploads              what the image will be, and its size  -> 201, offset 0
    PATCH  /uploads/{id}         Upload-Offset: <n>, body: the bytes from n on
    HEAD   /uploads/{id}         Upload-Offset: where to go on from (also GET, as JSON)
    POST   /uploads/{id}/complete  digest and signature checked -> 201, the active image
    DELETE /uploads/{id}         cancel

A PATCH that breaks off keeps the bytes that arrived; the client asks for the offset and
sends the rest. A PATCH at another offset than the server's gets 409 with the server's.

Every route needs a token with ``images.publish``; opening a session, the publisher role in
its group. A session is its opener's: anyone else (operators aside) gets 404 for it.
"""

from __future__ import annotations

import contextlib
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Header, Request, Response

from guificloud.errors import InvalidInput, TooLarge
from guificloud.failpoints import failpoint
from guificloud.http import UowDep
from guificloud.idempotency import IdempotencyDep, as_response
from guificloud.inputs import Int64Param
from guificloud.logging import get_logger
from guificloud.request_guard import allow_large_body
from guificloud_imagestore import commands, uploads
from guificloud_imagestore.access import ensure_may_publish
from guificloud_imagestore.archives import check_archive
from guificloud_imagestore.blobs import BlobStore, Staged
from guificloud_imagestore.deps import BlobsDep, PublisherDep, SettingsDep, StatesDep
from guificloud_imagestore.runtime import ImagestoreRuntime, ImagestoreRuntimeDep
from guificloud_imagestore.schemas import Arch, ImageOut, UploadIn, UploadOut
from guificloud_imagestore.session_files import BytesLost, HashStates, append, digest_of
from guificloud_imagestore.settings import ImagestoreSettings
from guificloud_imagestore.signatures import check_signature
from guificloud_imagestore.uploads import OffsetMismatch, SessionView
from guificloud_imagestore.views import image_out

log = get_logger(__name__)

router = APIRouter(prefix="/api/v1", tags=["uploads"])

OFFSET = "Upload-Offset"
LENGTH = "Upload-Length"
CHUNK_BODY = {
    "requestBody": {
        "required": True,
        "description": "The next bytes of the image, from ``Upload-Offset`` on",
        "content": {"application/offset+octet-stream": {"schema": {"type": "string"}}},
    }
}


def offset_headers(session: SessionView) -> dict[str, str]:
    return {OFFSET: str(session.offset), LENGTH: str(session.size), "Cache-Control": "no-store"}


@router.post("/uploads", status_code=201, response_model=UploadOut)
async def create_upload(
    upload: UploadIn,
    principal: PublisherDep,
    uow: UowDep,
    settings: SettingsDep,
    once: IdempotencyDep,
) -> Response:
    """Start an upload for ``group_id`` (publisher or group admin there): reserves the version
    (``uploading``, counted in the group's image quota) and checks what it can of the
    signature before any byte is sent. The session is the caller's alone."""
    ensure_may_publish(principal, upload.group_id)
    if upload.size > settings.max_image_bytes:
        raise TooLarge(f"image larger than {settings.max_image_bytes} bytes", field="size")

    async def make() -> Response:
        await check_signature(
            uow,
            upload,
            digest=upload.digest,
            signature=upload.signature,
            key_id=upload.key_id,
            required=settings.require_signature,
        )
        session = await uploads.create_session(
            uow, upload, by=principal.id, ttl_s=settings.upload_session_ttl_s
        )
        log.info("upload.started", upload_id=str(session.id), name=upload.name, size=upload.size)
        response = as_response(session.out(), 201)
        response.headers.update({**offset_headers(session), "Location": session.out().url})
        return response

    return await once.run(uow, make)


@router.get("/uploads", response_model=list[UploadOut])
async def list_uploads(
    principal: PublisherDep,
    uow: UowDep,
    name: str | None = None,
    version: str | None = None,
    arch: Arch | None = None,
) -> list[UploadOut]:
    """The caller's sessions in progress (an operator's: all): how a client that lost its
    session id finds it again."""
    found = await uploads.find_sessions(uow, principal, name=name, version=version, arch=arch)
    return [s.out() for s in found]


@router.get("/uploads/{upload_id}", response_model=UploadOut)
async def get_upload(
    upload_id: UUID, principal: PublisherDep, response: Response, uow: UowDep
) -> UploadOut:
    session = await uploads.get_session(uow, upload_id, principal)
    response.headers.update(offset_headers(session))
    return session.out()


@router.head("/uploads/{upload_id}", response_class=Response)
async def head_upload(upload_id: UUID, principal: PublisherDep, uow: UowDep) -> Response:
    """``Upload-Offset``: the bytes the server has; send the rest from there."""
    session = await uploads.get_session(uow, upload_id, principal)
    return Response(status_code=200, headers=offset_headers(session))


@router.patch("/uploads/{upload_id}", response_model=UploadOut, openapi_extra=CHUNK_BODY)
async def send_chunk(
    upload_id: UUID,
    principal: PublisherDep,
    request: Request,
    response: Response,
    runtime: ImagestoreRuntimeDep,
    blobs: BlobsDep,
    states: StatesDep,
    settings: SettingsDep,
    upload_offset: Annotated[Int64Param, Header(alias=OFFSET, ge=0)],
) -> UploadOut:
    """Append the body at ``Upload-Offset``, which must be the server's offset (else 409
    with it). Bytes that arrived before a broken connection are kept."""
    if request.headers.get("content-type", "").startswith("multipart/"):
        raise InvalidInput("send the bytes as the body, not as a multipart form", field="body")
    lease = {"lease_s": settings.upload_lease_s}
    async with runtime.uow() as uow:
        session = await uploads.claim(
            uow,
            upload_id,
            principal,
            offset=upload_offset,
            ttl_s=settings.upload_session_ttl_s,
            **lease,
        )

    async def renew() -> None:
        async with runtime.uow() as uow:
            await uploads.renew(uow, upload_id, **lease)

    allow_large_body(request)  # bounded by the size the session declared
    try:
        appended = await append(
            blobs.session_path(upload_id),
            states,
            upload_id,
            offset=session.offset,
            size=session.size,
            chunks=request.stream(),
            renew=renew,
            renew_every_s=settings.upload_lease_s / 3,
        )
    except BaseException:
        await release_quietly(runtime, upload_id, settings)
        raise
    failpoint("imagestore.upload.before_record")
    async with runtime.uow() as uow:
        session = await uploads.release(
            uow, upload_id, offset=appended.offset, ttl_s=settings.upload_session_ttl_s
        )
    log.info(
        "upload.chunk_received" if not appended.disconnected else "upload.chunk_broken_off",
        upload_id=str(upload_id),
        offset=session.offset,
        size=session.size,
    )
    response.headers.update(offset_headers(session))
    return session.out()


@router.post("/uploads/{upload_id}/complete", status_code=201, response_model=ImageOut)
async def complete_upload(
    upload_id: UUID,
    principal: PublisherDep,
    request: Request,
    runtime: ImagestoreRuntimeDep,
    blobs: BlobsDep,
    states: StatesDep,
    settings: SettingsDep,
    once: IdempotencyDep,
) -> Response:
    """Check digest, signature and the group's image quota, file the blob and publish the image.

    A digest or signature that does not verify ends the session (its bytes are wrong for
    it): 422 naming the field, and the version is free again. With an ``Idempotency-Key``,
    a retry after the session is gone answers the published image again."""
    ttl_s = settings.upload_session_ttl_s
    async with runtime.uow() as uow:
        if (replayed := await once.replay(uow)) is not None:
            return replayed
        session = await uploads.claim(
            uow, upload_id, principal, offset=None, lease_s=settings.upload_lease_s, ttl_s=ttl_s
        )
    path = blobs.session_path(upload_id)
    try:
        if session.offset != session.size:
            raise OffsetMismatch(
                f"the upload is incomplete: {session.offset} of {session.size} bytes received; "
                "send the rest first",
                session.offset,
            )
        try:
            digest = await digest_of(path, states, upload_id, session.size)
            if session.digest is not None and session.digest != digest:
                raise InvalidInput(
                    f"digest mismatch: the bytes hash to {digest}, not {session.digest}",
                    field="digest",
                )
            await check_archive(path, session.meta.format)
            async with runtime.uow() as uow:

                async def make() -> Response:
                    signed = await check_signature(
                        uow,
                        session.meta,
                        digest=digest,
                        signature=session.signature,
                        key_id=session.key_id,
                        required=settings.require_signature,
                    )
                    image = await uploads.finish(uow, upload_id)
                    staged = Staged(digest=digest, size=session.size, path=path)
                    await commands.activate(uow, blobs, image, staged, signed)
                    log.info("upload.completed", upload_id=str(upload_id), image_id=str(image.id))
                    return as_response(image_out(image, request), 201)

                response = await once.run(uow, make)
        except (InvalidInput, BytesLost) as exc:
            await discard(runtime, blobs, states, upload_id)
            log.warning("upload.refused", upload_id=str(upload_id), reason=exc.message)
            raise
    except BaseException:
        await release_quietly(runtime, upload_id, settings)
        raise
    path.unlink(missing_ok=True)
    states.drop(upload_id)
    return response


@router.delete("/uploads/{upload_id}", status_code=204, response_class=Response)
async def cancel_upload(
    upload_id: UUID,
    principal: PublisherDep,
    runtime: ImagestoreRuntimeDep,
    blobs: BlobsDep,
    states: StatesDep,
    settings: SettingsDep,
) -> Response:
    """Drop the session, its bytes and its reserved version (refused while bytes flow)."""
    async with runtime.uow() as uow:
        await uploads.claim(
            uow, upload_id, principal, offset=None, lease_s=settings.upload_lease_s, ttl_s=60.0
        )
    await discard(runtime, blobs, states, upload_id)
    log.info("upload.cancelled", upload_id=str(upload_id))
    return Response(status_code=204)


async def discard(
    runtime: ImagestoreRuntime, blobs: BlobStore, states: HashStates, upload_id: UUID
) -> None:
    async with runtime.uow() as uow:
        await uploads.drop(uow, upload_id)
    blobs.session_path(upload_id).unlink(missing_ok=True)
    states.drop(upload_id)


async def release_quietly(
    runtime: ImagestoreRuntime, upload_id: UUID, settings: ImagestoreSettings
) -> None:
    """Give the lease back after a failure (a session already gone is fine)."""
    with contextlib.suppress(Exception):
        async with runtime.uow() as uow:
            await uploads.release(uow, upload_id, ttl_s=settings.upload_session_ttl_s)
