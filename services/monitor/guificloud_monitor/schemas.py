"""What the monitor's API returns."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from guificloud.events.agent import HostMetrics
from guificloud_monitor.availability import Availability


class BoxOut(BaseModel):
    """Availability of a box, its latest metrics, and where it lives (once registered)."""

    model_config = ConfigDict(from_attributes=True)

    box_id: UUID
    state: Availability
    state_since: datetime
    last_seen: datetime | None
    interval_s: float | None
    seq: int | None
    sent_at: datetime | None
    metrics: HostMetrics | None
    device_id: UUID | None
    node_id: UUID | None
    zone_id: UUID | None
    arch: str | None
    registered_at: datetime | None


class HeartbeatOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    sent_at: datetime
    received_at: datetime
    metrics: HostMetrics


class TransitionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    from_state: Availability
    to_state: Availability
    at: datetime


class Counts(BaseModel):
    online: int = 0
    offline: int = 0
    unknown: int = 0
    total: int = 0


class ZoneCounts(Counts):
    zone_id: UUID | None = None


class FleetOut(Counts):
    """Counts over every box, then per zone (``zone_id`` null: boxes not registered yet)."""

    zones: list[ZoneCounts]


class IngestStatsOut(BaseModel):
    """Heartbeat ingest counters of the instance that answers, since it started."""

    received: int
    malformed: int
    recorded: int
    batches: int
    failed_flushes: int
    dropped: int
    pending: int
