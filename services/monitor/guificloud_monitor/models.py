"""Tables of the monitor schema: availability of boxes, their transitions, heartbeat history.

``boxes`` is both the availability of each box (fed by heartbeats) and the read model of
where it lives (fed by ``provisioner.box.registered``); either may come first.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import BigInteger, DateTime, Float, Index, MetaData, String, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from guificloud.db.messaging import define_messaging_tables

SCHEMA = "monitor"
metadata = MetaData(schema=SCHEMA)
messaging = define_messaging_tables(metadata)


class Base(DeclarativeBase):
    metadata = metadata


class Box(Base):
    __tablename__ = "boxes"
    __table_args__ = (
        # The sweeper's question: which online boxes are overdue?
        Index(
            "ix_monitor_boxes_online_due_at", "due_at", postgresql_where=text("state = 'online'")
        ),
    )

    box_id: Mapped[UUID] = mapped_column(primary_key=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    state_since: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    due_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), comment="when the box is overdue if no heartbeat comes"
    )
    seq: Mapped[int | None] = mapped_column(BigInteger)
    interval_s: Mapped[float | None] = mapped_column(Float)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    metrics: Mapped[dict[str, object] | None] = mapped_column(JSONB)
    device_id: Mapped[UUID | None] = mapped_column()
    node_id: Mapped[UUID | None] = mapped_column(index=True)
    zone_id: Mapped[UUID | None] = mapped_column(index=True)
    arch: Mapped[str | None] = mapped_column(String(16))
    registered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class AvailabilityTransition(Base):
    __tablename__ = "availability_transitions"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    box_id: Mapped[UUID] = mapped_column(index=True)
    from_state: Mapped[str] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class HeartbeatRecord(Base):
    """One heartbeat as received; trimmed after ``heartbeat_retention_s``."""

    __tablename__ = "heartbeats"

    box_id: Mapped[UUID] = mapped_column(primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    metrics: Mapped[dict[str, object]] = mapped_column(JSONB)
