"""Tables of the imagestore schema."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import BigInteger, DateTime, MetaData, String, UniqueConstraint, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from guificloud.db.messaging import define_messaging_tables

SCHEMA = "imagestore"
metadata = MetaData(schema=SCHEMA)
messaging = define_messaging_tables(metadata)


class Base(DeclarativeBase):
    metadata = metadata


class Image(Base):
    """A published version of an image; its bytes are the blob named by ``digest``."""

    __tablename__ = "images"
    __table_args__ = (UniqueConstraint("name", "version", "arch", name="images_name_version_arch"),)

    id: Mapped[UUID] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), index=True)
    version: Mapped[str] = mapped_column(String(64))
    arch: Mapped[str] = mapped_column(String(16))
    format: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(32), server_default="stable")
    digest: Mapped[str] = mapped_column(String(71), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(16), server_default="active")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
