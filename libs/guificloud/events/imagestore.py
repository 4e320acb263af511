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
    signature: str | None = None
    key_id: str | None = None
    publisher: str | None = None


class ImageUploaded(Event):
    """The bytes are stored and hashed; the image is not published yet."""

    TYPE = "imagestore.image.uploaded"
    SUBJECT = "imagestore.image.uploaded"

    image_id: UUID
    name: str
    version: str
    arch: str
    digest: str
    size: int


class ImageDeprecated(Event):
    """Still downloadable for boxes that run it; not offered for new deployments."""

    TYPE = "imagestore.image.deprecated"
    SUBJECT = "imagestore.image.deprecated"

    image_id: UUID
    name: str
    version: str
    arch: str
    digest: str


class ImageDeleted(Event):
    TYPE = "imagestore.image.deleted"
    SUBJECT = "imagestore.image.deleted"

    image_id: UUID
    name: str
    version: str
    arch: str
    digest: str


class PublisherKeyAdded(Event):
    """A publisher key the store trusts; boxes are given it with their configuration."""

    TYPE = "imagestore.key.added"
    SUBJECT = "imagestore.key.added"

    key_id: str
    public_key: str
    publisher: str
    names: tuple[str, ...] | None = None
    """The image names (or patterns) it may sign; None from a store before keys had names."""


class PublisherKeyRevoked(Event):
    TYPE = "imagestore.key.revoked"
    SUBJECT = "imagestore.key.revoked"

    key_id: str
