"""Events of the image store."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from guificloud.events.envelope import Event


class ImagePublished(Event):
    """An image is active and can be downloaded from ``url`` (relative to the image store)."""

    TYPE = "imagestore.image.published"
    SUBJECT = "imagestore.image.published"

    image_id: UUID
    name: str
    version: str
    arch: str
    format: str
    channel: str
    digest: str
    size: int
    url: str
    published_at: datetime
