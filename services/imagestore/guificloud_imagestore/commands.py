"""What the image store does with images, as plain functions of a unit of work."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID, uuid4

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from guificloud.db.uow import UnitOfWork
from guificloud.errors import Conflict, NotFound
from guificloud.events.imagestore import ImagePublished
from guificloud.logging import get_logger
from guificloud_imagestore.blobs import Blob, blob_url
from guificloud_imagestore.models import Image
from guificloud_imagestore.schemas import ImageMeta

log = get_logger(__name__)


async def ensure_unpublished(uow: UnitOfWork, meta: ImageMeta) -> None:
    """A published version is immutable: refuse a second upload before reading its bytes."""
    existing = await uow.session.scalar(
        select(Image.id).where(
            Image.name == meta.name, Image.version == meta.version, Image.arch == meta.arch
        )
    )
    if existing is not None:
        raise _already_published(meta, existing)


async def publish_image(uow: UnitOfWork, meta: ImageMeta, blob: Blob) -> Image:
    """Record the image as active and announce it with ``imagestore.image.published``.

    The event's ``url`` is relative to the image store (``/api/v1/blobs/sha256:<hex>``):
    the store does not know every address it is reached by; readers prefix their own."""
    await ensure_unpublished(uow, meta)
    now = datetime.now(UTC)
    image = Image(
        id=uuid4(),
        name=meta.name,
        version=meta.version,
        arch=meta.arch,
        format=meta.format,
        channel=meta.channel,
        digest=blob.digest,
        size=blob.size,
        state="active",
        created_at=now,
        published_at=now,
    )
    uow.session.add(image)
    try:
        await uow.session.flush()
    except IntegrityError as exc:
        raise _already_published(meta, None) from exc
    uow.emit(
        ImagePublished(
            image_id=image.id,
            name=image.name,
            version=image.version,
            arch=image.arch,
            format=image.format,
            channel=image.channel,
            digest=image.digest,
            size=image.size,
            url=blob_url(image.digest),
            published_at=now,
        )
    )
    await uow.commit()
    log.info(
        "image.published",
        image_id=str(image.id),
        name=image.name,
        version=image.version,
        arch=image.arch,
        digest=image.digest,
        size=image.size,
    )
    return image


async def get_image(uow: UnitOfWork, image_id: UUID) -> Image:
    image = await uow.session.get(Image, image_id)
    if image is None:
        raise NotFound(f"image {image_id} not found")
    return image


async def list_images(
    uow: UnitOfWork,
    *,
    name: str | None = None,
    version: str | None = None,
    channel: str | None = None,
    arch: str | None = None,
    limit: int = 100,
) -> list[Image]:
    """Newest first."""
    stmt = select(Image).order_by(Image.published_at.desc(), Image.created_at.desc()).limit(limit)
    for column, value in (
        (Image.name, name),
        (Image.version, version),
        (Image.channel, channel),
        (Image.arch, arch),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    return list(await uow.session.scalars(stmt))


def _already_published(meta: ImageMeta, image_id: UUID | None) -> Conflict:
    which = f" as image {image_id}" if image_id else ""
    return Conflict(
        f"{meta.name} {meta.version} ({meta.arch}) is already published{which}; "
        "a published version is immutable, upload a new version"
    )
