"""What the image store does with images, as plain functions of a unit of work."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID, uuid4

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from guificloud.auth.principal import Principal
from guificloud.db.uow import UnitOfWork
from guificloud.errors import Conflict
from guificloud.events.imagestore import (
    ImageDeleted,
    ImageDeprecated,
    ImagePublished,
    ImageUploaded,
)
from guificloud.failpoints import failpoint
from guificloud.logging import get_logger
from guificloud_imagestore.access import ensure_may_manage
from guificloud_imagestore.blobs import BlobStore, Staged, blob_url
from guificloud_imagestore.in_use import in_use
from guificloud_imagestore.locks import share_blobs
from guificloud_imagestore.models import ACTIVE, DELETED, DEPRECATED, UPLOADING, Image
from guificloud_imagestore.quota import ensure_image_quota
from guificloud_imagestore.schemas import ImageMeta
from guificloud_imagestore.signatures import Signed
from guificloud_imagestore.slice_usage import slices_using
from guificloud_imagestore.usage import boxes_using

log = get_logger(__name__)


async def ensure_unpublished(uow: UnitOfWork, meta: ImageMeta) -> None:
    """A version is immutable: refuse a second upload before reading its bytes."""
    existing = await uow.session.scalar(
        select(Image).where(
            Image.name == meta.name, Image.version == meta.version, Image.arch == meta.arch
        )
    )
    if existing is not None:
        raise already_there(existing)


async def reserve_image(
    uow: UnitOfWork, meta: ImageMeta, *, group_id: UUID | None, by: UUID
) -> Image:
    """The image row in state ``uploading``, for ``group_id`` (within its quota) by the
    account ``by``: holds its (name, version, arch) from now on."""
    await ensure_unpublished(uow, meta)
    await ensure_image_quota(uow, group_id)
    image = Image(
        id=uuid4(),
        name=meta.name,
        version=meta.version,
        arch=meta.arch,
        format=meta.format,
        channel=meta.channel,
        state=UPLOADING,
        group_id=group_id,
        published_by=by,
        created_at=datetime.now(UTC),
    )
    uow.session.add(image)
    try:
        await uow.session.flush()
    except IntegrityError as exc:
        raise Conflict(
            f"{meta.name} {meta.version} ({meta.arch}) was uploaded meanwhile; "
            "a version is immutable, upload a new version"
        ) from exc
    return image


async def publish_image(
    uow: UnitOfWork,
    blobs: BlobStore,
    meta: ImageMeta,
    staged: Staged,
    signed: Signed | None,
    *,
    group_id: UUID | None,
    by: UUID,
) -> Image:
    """A single-request upload: record the image and publish it at once; the caller commits."""
    image = await reserve_image(uow, meta, group_id=group_id, by=by)
    await activate(uow, blobs, image, staged, signed)
    return image


async def activate(
    uow: UnitOfWork, blobs: BlobStore, image: Image, staged: Staged, signed: Signed | None
) -> None:
    """File the staged bytes under their digest, make the image active and announce it
    (``imagestore.image.uploaded`` then ``.published``). The caller commits.

    The event's ``url`` is relative to the image store (``/api/v1/blobs/sha256:<hex>``):
    the store does not know every address it is reached by; readers prefix their own."""
    await share_blobs(uow)
    already = await blobs.file(staged.path, staged.digest)
    failpoint("imagestore.blob.filed")
    now = datetime.now(UTC)
    image.digest, image.size, image.state = staged.digest, staged.size, ACTIVE
    image.published_at = now
    if signed is not None:
        image.signature, image.key_id = signed.signature, signed.key_id
        image.publisher = signed.publisher
    await uow.session.flush()
    uow.emit(
        ImageUploaded(
            image_id=image.id,
            name=image.name,
            version=image.version,
            arch=image.arch,
            digest=staged.digest,
            size=staged.size,
        )
    )
    uow.emit(
        ImagePublished(
            image_id=image.id,
            name=image.name,
            version=image.version,
            arch=image.arch,
            format=image.format,
            channel=image.channel,
            digest=staged.digest,
            size=staged.size,
            url=blob_url(staged.digest),
            published_at=now,
            signature=image.signature,
            key_id=image.key_id,
            publisher=image.publisher,
        )
    )
    log.info(
        "image.published",
        image_id=str(image.id),
        name=image.name,
        version=image.version,
        arch=image.arch,
        digest=staged.digest,
        size=staged.size,
        key_id=image.key_id,
        blob_already_stored=already,
    )


async def deprecate_image(uow: UnitOfWork, image_id: UUID, principal: Principal) -> Image:
    """Not offered for new deployments; still downloadable. Twice is the same as once."""
    image = await get_image(uow, image_id, for_update=True)
    ensure_may_manage(principal, image.group_id)
    if image.state == DEPRECATED:
        return image
    if image.state != ACTIVE:
        raise Conflict(f"image {image_id} is {image.state}; only an active image is deprecated")
    assert image.digest is not None
    image.state = DEPRECATED
    uow.emit(
        ImageDeprecated(
            image_id=image.id,
            name=image.name,
            version=image.version,
            arch=image.arch,
            digest=image.digest,
        )
    )
    await uow.commit()
    log.info("image.deprecated", image_id=str(image.id), name=image.name, version=image.version)
    return image


async def delete_image(uow: UnitOfWork, image_id: UUID, principal: Principal) -> Image:
    """Delete an image no box, slice or sliver uses; its row stays as a tombstone (the
    version is never reused) and its blob goes with the next collection unless another
    image names it. It no longer counts in its group's quota."""
    image = await get_image(uow, image_id, for_update=True)
    ensure_may_manage(principal, image.group_id)
    if image.state == DELETED:
        return image
    if image.state == UPLOADING or image.digest is None:
        raise Conflict(f"image {image_id} is being uploaded: cancel its upload session instead")
    boxes = await boxes_using(uow, image.digest)
    slices = await slices_using(uow, image.digest)
    if boxes or slices:
        raise in_use(image, boxes, slices)
    image.state, image.deleted_at = DELETED, datetime.now(UTC)
    uow.emit(
        ImageDeleted(
            image_id=image.id,
            name=image.name,
            version=image.version,
            arch=image.arch,
            digest=image.digest,
        )
    )
    await uow.commit()
    log.info("image.deleted", image_id=str(image.id), name=image.name, version=image.version)
    return image


async def get_image(uow: UnitOfWork, image_id: UUID, *, for_update: bool = False) -> Image:
    image = await uow.get(Image, image_id, "image", for_update=for_update)
    return image


async def list_images(
    uow: UnitOfWork,
    *,
    name: str | None = None,
    version: str | None = None,
    channel: str | None = None,
    arch: str | None = None,
    state: str | None = None,
    limit: int = 100,
) -> list[Image]:
    """Newest first; active and deprecated ones unless ``state`` asks for others."""
    stmt = select(Image).order_by(Image.published_at.desc(), Image.created_at.desc()).limit(limit)
    for column, value in (
        (Image.name, name),
        (Image.version, version),
        (Image.channel, channel),
        (Image.arch, arch),
        (Image.state, state),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if state is None:
        stmt = stmt.where(Image.state.in_((ACTIVE, DEPRECATED)))
    return list(await uow.session.scalars(stmt))


async def referenced_digests(uow: UnitOfWork) -> set[str]:
    """Digests of every image that is not deleted: their blobs are kept."""
    stmt = select(Image.digest).where(Image.state != DELETED, Image.digest.is_not(None)).distinct()
    return {d for d in await uow.session.scalars(stmt) if d is not None}


def already_there(image: Image) -> Conflict:
    what = f"{image.name} {image.version} ({image.arch})"
    if image.state == UPLOADING:
        return Conflict(
            f"{what} is being uploaded (image {image.id}); whoever opened its upload session "
            "may resume it (GET /api/v1/uploads?name=…&version=…&arch=…) or cancel it"
        )
    if image.state == DELETED:
        return Conflict(f"{what} was deleted; a version is never reused, upload a new version")
    return Conflict(
        f"{what} is already published as image {image.id}; "
        "a published version is immutable, upload a new version"
    )
