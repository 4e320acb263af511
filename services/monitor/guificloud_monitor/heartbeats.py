"""Turning a heartbeat message into something the batch can store, or a reason it cannot.

Everything a batch writes is checked here, one message at a time, so that one bad
heartbeat is refused alone instead of failing the whole batch in the database.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from guificloud.errors import PermanentFailure
from guificloud.events.agent import Heartbeat
from guificloud.events.catalogue import decode

MAX_INTERVAL_S = 86_400.0
MAX_SEQ = 2**63 - 1


@dataclass(frozen=True)
class ReceivedHeartbeat:
    heartbeat: Heartbeat
    received_at: datetime
    correlation_id: str

    @property
    def metrics(self) -> dict[str, Any]:
        metrics: dict[str, Any] = self.heartbeat.metrics.model_dump(mode="json")
        return metrics

    @property
    def sent_at(self) -> datetime:
        sent: datetime = self.heartbeat.sent_at
        return sent if sent.tzinfo is not None else sent.replace(tzinfo=UTC)


def parse(subject: str, data: bytes, received_at: datetime) -> ReceivedHeartbeat:
    """Decode and check one message; raise :class:`PermanentFailure` saying why it is refused."""
    envelope, event = decode(data, subject=subject)  # a heartbeat for another box is refused
    if not isinstance(event, Heartbeat):
        raise PermanentFailure(f"{envelope.type} is not a heartbeat")
    if not (math.isfinite(event.interval_s) and 0 < event.interval_s <= MAX_INTERVAL_S):
        raise PermanentFailure(f"interval_s must be in (0, {MAX_INTERVAL_S:g}]: {event.interval_s}")
    if not 0 <= event.seq <= MAX_SEQ:
        raise PermanentFailure(f"seq out of range: {event.seq}")
    for name, value in event.metrics.model_dump().items():
        if isinstance(value, float) and not math.isfinite(value):
            raise PermanentFailure(f"metrics.{name} is not a finite number")
    return ReceivedHeartbeat(event, received_at, envelope.correlation_id)
