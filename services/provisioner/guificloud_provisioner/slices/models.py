"""Tables of slices and slivers, and the zone tree read model the placement needs.

A sliver's ``state`` is its actual state (the box's report, or ``offline``); what it should
be is its slice's ``set_state`` lowered by its own override. ``next_check_at`` is set while
the two differ: the reconciler looks at the sliver again then (per-sliver back-off).
A sliver with ``removing`` set is no longer in its box's desired state; its row (and the
capacity it holds) goes once the box reports it gone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from guificloud.states import SetState, SliverState
from guificloud_provisioner.models import Base


class Zone(Base):
    """Read model of the registry's zone tree (``registry.zone.*``): id -> parent."""

    __tablename__ = "zones"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    parent_id: Mapped[UUID | None] = mapped_column(index=True)


class Slice(Base):
    __tablename__ = "slices"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    # The group the slice belongs to (never changes); None: made before groups (operators').
    group_id: Mapped[UUID | None] = mapped_column(index=True)
    owner_group: Mapped[str] = mapped_column(String(200), index=True)  # the group's name then
    image_name: Mapped[str] = mapped_column(String(200))
    image_version: Mapped[str] = mapped_column(String(100))
    image_digest: Mapped[str] = mapped_column(String(71))
    image_pinned: Mapped[bool] = mapped_column(default=False)  # asked for by digest
    memory_mb: Mapped[int] = mapped_column(Integer)
    disk_mb: Mapped[int] = mapped_column(Integer)
    cpu_share: Mapped[float] = mapped_column(Float)
    placement: Mapped[dict[str, Any]] = mapped_column(JSONB)
    replace_on_loss: Mapped[bool] = mapped_column(default=False)
    set_state: Mapped[SetState] = mapped_column(String(16), index=True)
    instance: Mapped[int] = mapped_column(Integer, default=0)
    settled: Mapped[bool] = mapped_column(default=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    expiry_warned: Mapped[bool] = mapped_column(default=False)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delete_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Sliver(Base):
    __tablename__ = "slivers"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    slice_id: Mapped[UUID] = mapped_column(ForeignKey("slices.id", ondelete="CASCADE"), index=True)
    box_id: Mapped[UUID] = mapped_column(ForeignKey("boxes.id"), index=True)
    node_id: Mapped[UUID] = mapped_column()
    zone_id: Mapped[UUID] = mapped_column()
    set_state: Mapped[SetState | None] = mapped_column(String(16))  # the sliver's own override
    image: Mapped[dict[str, Any]] = mapped_column(JSONB)  # a DistroSpec for the box's arch
    image_override: Mapped[bool] = mapped_column(default=False)
    memory_mb: Mapped[int] = mapped_column(Integer)
    disk_mb: Mapped[int] = mapped_column(Integer)
    cpu_share: Mapped[float] = mapped_column(Float)
    instance: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[SliverState] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    replaces: Mapped[UUID | None] = mapped_column()
    replaced_by: Mapped[UUID | None] = mapped_column()
    removing: Mapped[bool] = mapped_column(default=False)
    remove_reason: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    gave_up: Mapped[bool] = mapped_column(default=False)  # the reconciler set its fail_* state
    next_check_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (UniqueConstraint("slice_id", "box_id", name="one_sliver_per_box"),)


class SliverTransition(Base):
    __tablename__ = "sliver_transitions"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    sliver_id: Mapped[UUID] = mapped_column(
        ForeignKey("slivers.id", ondelete="CASCADE"), index=True
    )
    from_state: Mapped[SliverState | None] = mapped_column(String(16))
    to_state: Mapped[SliverState] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
