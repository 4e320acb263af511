"""What box agents say: reports of their state (durable) and heartbeats (telemetry)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from guificloud.events.envelope import Event
from guificloud.states import AgentState, SliverActualState


class SliverStatus(BaseModel):
    """What a box says of one sliver; a ``fail_*`` state carries the reason."""

    model_config = ConfigDict(frozen=True)

    sliver_id: UUID
    instance: int
    state: SliverActualState
    image_digest: str | None = None
    reason: str | None = None


class AgentReported(Event):
    """The agent's actual state; sent on every change and on every (re)connect.

    ``slivers`` is the whole set the box holds (level, not edge): a sliver of the desired
    state that is missing here has not been acted on yet; one present here and not desired
    is being removed."""

    TYPE = "agent.box.reported"
    SUBJECT = "agent.{box_id}.reported"

    box_id: UUID
    state: AgentState
    generation: int
    distro_digest: str | None = None
    reason: str | None = None
    driver: str
    slivers: list[SliverStatus] = Field(default_factory=list)


class HostMetrics(BaseModel):
    model_config = ConfigDict(frozen=True)

    load1: float
    load5: float
    load15: float
    mem_total_mb: int
    mem_used_mb: int
    disk_total_gb: float
    disk_used_gb: float
    uptime_s: int


class Heartbeat(Event):
    """Sent every ``interval_s`` over core NATS; the monitor batches them."""

    TYPE = "agent.box.heartbeat"
    SUBJECT = "agent.{box_id}.heartbeat"

    box_id: UUID
    seq: int
    interval_s: float
    sent_at: datetime
    metrics: HostMetrics
