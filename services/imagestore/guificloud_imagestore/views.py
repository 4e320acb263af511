"""Images as the API shows them."""

from __future__ import annotations

from fastapi import Request

from guificloud_imagestore.blobs import blob_url
from guificloud_imagestore.models import Image
from guificloud_imagestore.schemas import ImageOut


def image_out(image: Image, request: Request) -> ImageOut:
    """The image as JSON, with its blob's URL both relative and as this request reached us."""
    url = blob_url(image.digest) if image.digest else None
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
        publisher=image.publisher,
        signature=image.signature,
        key_id=image.key_id,
        group_id=image.group_id,
        published_by=image.published_by,
        created_at=image.created_at,
        published_at=image.published_at,
        deleted_at=image.deleted_at,
        url=url,
        download_url=str(request.base_url).rstrip("/") + url if url else None,
    )
