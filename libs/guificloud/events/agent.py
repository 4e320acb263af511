"""What box agents say: reports of their state (durable) and heartbeats (telemetry)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from guificloud.events.envelope import Event

AgentState = Literal["idle", "deploying", "running", "failed"]


class AgentReported(Event):
    """The agent's actual state; sent on every change and on every (re)connect."""

    TYPE = "agent.box.reported"
    SUBJECT = "agent.{box_id}.reported"

    box_id: UUID
    state: AgentState
    generation: int
    distro_digest: str | None = None
    reason: str | None = None
    driver: str


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
