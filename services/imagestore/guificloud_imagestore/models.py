"""Tables of the imagestore schema."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    MetaData,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from guificloud.db.group_facts import GroupFacts
from guificloud.db.idempotency import define_idempotency_table
from guificloud.db.messaging import define_messaging_tables

SCHEMA = "imagestore"
metadata = MetaData(schema=SCHEMA)
messaging = define_messaging_tables(metadata)
idempotency = define_idempotency_table(metadata)
groups = GroupFacts(metadata)
"""The identity service's groups, as their events told: image quotas."""

UPLOADING = "uploading"
ACTIVE = "active"
DEPRECATED = "deprecated"
DELETED = "deleted"


class Base(DeclarativeBase):
    metadata = metadata
    # Server-made values come back with the INSERT or UPDATE (RETURNING): nothing read after
    # a commit goes back to the database, so a database gone by then cannot fail a response.
    __mapper_args__ = {"eager_defaults": True}


class Image(Base):
    """A version of an image; its bytes are the blob named by ``digest``.

    The row is made when its upload starts (``uploading``, no digest yet), so that one
    (name, version, arch) has one upload at a time; a deleted image stays as a tombstone so
    that its version is never reused for other bytes.

    ``group_id`` is the group it is published for, whose image quota it counts in (from
    its reservation until it is deleted); None for the deployment's own images (the distro),
    which only operators publish."""

    __tablename__ = "images"
    __table_args__ = (UniqueConstraint("name", "version", "arch", name="images_name_version_arch"),)

    id: Mapped[UUID] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), index=True)
    version: Mapped[str] = mapped_column(String(64))
    arch: Mapped[str] = mapped_column(String(16))
    format: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(32), server_default="stable")
    digest: Mapped[str | None] = mapped_column(String(71), index=True)
    size: Mapped[int | None] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(16), server_default=ACTIVE)
    publisher: Mapped[str | None] = mapped_column(String(128))
    """The signing key's publisher; ``published_by`` is the account that uploaded it."""
    signature: Mapped[str | None] = mapped_column(String(128))
    key_id: Mapped[str | None] = mapped_column(String(16))
    group_id: Mapped[UUID | None] = mapped_column(index=True)
    published_by: Mapped[UUID | None]
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PublisherKey(Base):
    """An ed25519 public key whose signatures the store accepts, until revoked."""

    __tablename__ = "publisher_keys"

    key_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    public_key: Mapped[str] = mapped_column(String(64))
    publisher: Mapped[str] = mapped_column(String(128))
    names: Mapped[list[str]] = mapped_column(ARRAY(String(128)), server_default="{*}")
    """The image names (or patterns) it may sign; see ``guificloud.key_names``."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class UploadSession(Base):
    """A resumable upload: bytes ``[0, offset)`` are in ``uploads/<id>.session``.

    ``writer_until`` is the lease of the one request appending to it right now; a writer
    that died loses it when it runs out, and the next one truncates what it left unrecorded.
    It belongs to the account that opened it (``opened_by``); its group is its image's."""

    __tablename__ = "uploads"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    image_id: Mapped[UUID] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"), unique=True)
    opened_by: Mapped[UUID | None] = mapped_column(index=True)
    """None only for sessions opened before sessions had owners: operators finish those."""
    size: Mapped[int] = mapped_column(BigInteger)
    offset: Mapped[int] = mapped_column(BigInteger, server_default="0")
    digest: Mapped[str | None] = mapped_column(String(71))
    signature: Mapped[str | None] = mapped_column(String(128))
    key_id: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    writer_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class BoxUsage(Base):
    """Which image (by digest) each box deploys or runs, from the provisioner's events."""

    __tablename__ = "box_usage"

    box_id: Mapped[UUID] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(String(71), index=True)
    state: Mapped[str] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class SliceUsage(Base):
    """The image (by digest) a slice names, from the provisioner's slice events: new slivers
    of the slice (added, or replacing lost ones) are placed from it.

    A deleted slice keeps its row (``deleted_at``) for a while, so that a sliver event of it
    handled late, after a retry, does not bring its usage back."""

    __tablename__ = "slice_usage"

    slice_id: Mapped[UUID] = mapped_column(primary_key=True)
    digest: Mapped[str | None] = mapped_column(String(71), index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)


class SliverUsage(Base):
    """The image (by digest) each sliver runs, from the provisioner's sliver events; a
    deleted sliver keeps its row (``deleted_at``) for a while, as a deleted slice does."""

    __tablename__ = "sliver_usage"

    sliver_id: Mapped[UUID] = mapped_column(primary_key=True)
    slice_id: Mapped[UUID] = mapped_column(index=True)
    box_id: Mapped[UUID]
    digest: Mapped[str] = mapped_column(String(71), index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
