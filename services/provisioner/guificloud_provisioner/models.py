"""Tables of the provisioner schema: boxes, their transitions, and the distro read model.

Slices and slivers are in :mod:`guificloud_provisioner.slices.models` (same metadata); the
whole schema is :mod:`guificloud_provisioner.schema`."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from guificloud.db.group_facts import GroupFacts
from guificloud.db.idempotency import define_idempotency_table
from guificloud.db.messaging import define_messaging_tables
from guificloud.states import AgentState, BoxState

SCHEMA = "provisioner"
metadata = MetaData(schema=SCHEMA)
messaging = define_messaging_tables(metadata)
idempotency = define_idempotency_table(metadata)
group_facts = GroupFacts(metadata)
"""Which groups may have slices, and their quotas (``identity.group.*``)."""


class Base(DeclarativeBase):
    metadata = metadata
    # Server-made values come back with the INSERT or UPDATE (RETURNING): nothing read after
    # a commit goes back to the database, so a database gone by then cannot fail a response.
    __mapper_args__ = {"eager_defaults": True}


class Box(Base):
    """The cloud-host view of a ``confine``/``cloudy`` device; its id is the device's id."""

    __tablename__ = "boxes"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    node_id: Mapped[UUID] = mapped_column(index=True)
    zone_id: Mapped[UUID] = mapped_column(index=True)
    name: Mapped[str] = mapped_column(String(200))
    device_type: Mapped[str] = mapped_column(String(32))
    arch: Mapped[str] = mapped_column(String(16))
    cores: Mapped[int] = mapped_column(Integer)
    ram_mb: Mapped[int] = mapped_column(Integer)
    disk_gb: Mapped[int] = mapped_column(Integer)
    state: Mapped[BoxState] = mapped_column(String(16), index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    # The sha256 (hex) of the box's HTTP token (see box_tokens); None: it has none now.
    token_hash: Mapped[str | None] = mapped_column(String(64))
    generation: Mapped[int] = mapped_column(Integer, default=0)
    desired_distro: Mapped[dict[str, object] | None] = mapped_column(JSONB)
    agent_state: Mapped[AgentState | None] = mapped_column(String(16))
    actual_digest: Mapped[str | None] = mapped_column(String(71))
    last_report_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The node's owners (``registry.device.added``, then ``registry.node.owner_changed``):
    # with operators, the only ones who see the box's credentials. None: nobody's yet.
    owner_account_id: Mapped[UUID | None] = mapped_column()
    owner_group_id: Mapped[UUID | None] = mapped_column()
    # The flow that onboarded the box: its state events carry it, whatever report moved them.
    correlation_id: Mapped[str | None] = mapped_column(Text)
    # What slivers hold of the box (its capacity is its hardware less the platform reserve).
    allocated_memory_mb: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    allocated_disk_mb: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The monitor's verdict: None until it has one.
    online: Mapped[bool | None] = mapped_column()
    online_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
    __table_args__ = (
        CheckConstraint("allocated_memory_mb >= 0", name="allocated_memory_not_negative"),
        CheckConstraint("allocated_disk_mb >= 0", name="allocated_disk_not_negative"),
    )


class BoxTransition(Base):
    __tablename__ = "box_transitions"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    box_id: Mapped[UUID] = mapped_column(ForeignKey("boxes.id"), index=True)
    from_state: Mapped[BoxState | None] = mapped_column(String(16))
    to_state: Mapped[BoxState] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class DistroImage(Base):
    """Read model of ``imagestore.image.published``: the images a box may be given."""

    __tablename__ = "distro_images"

    image_id: Mapped[UUID] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    version: Mapped[str] = mapped_column(String(100))
    arch: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(32))
    format: Mapped[str] = mapped_column(String(16))
    digest: Mapped[str] = mapped_column(String(71))
    size: Mapped[int] = mapped_column(BigInteger)
    url: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    signature: Mapped[str | None] = mapped_column(Text)
    key_id: Mapped[str | None] = mapped_column(String(16))
    deprecated: Mapped[bool] = mapped_column(default=False, server_default="false")


class TrustedKey(Base):
    """Read model of the image store's publisher keys, handed to boxes with their state."""

    __tablename__ = "trusted_keys"

    key_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    public_key: Mapped[str] = mapped_column(Text)
    publisher: Mapped[str] = mapped_column(String(200))
    names: Mapped[list[str] | None] = mapped_column(ARRAY(String(128)))
    """The image names (or patterns) it may sign; None when the store did not say."""
    revoked: Mapped[bool] = mapped_column(default=False, server_default="false")
