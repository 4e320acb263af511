"""Availability states and the arithmetic of missed heartbeats.

A box is ``unknown`` until its first heartbeat, ``online`` from then on, and ``offline``
once ``offline_after_missed`` intervals have passed without one (the hysteresis: one late
heartbeat is not an outage). The next heartbeat makes it ``online`` again.

The monitor's own batching delay is added as grace to the due time: a heartbeat that has
arrived but waits for the next flush is not a missed one.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

Availability = Literal["unknown", "online", "offline"]
UNKNOWN: Availability = "unknown"
ONLINE: Availability = "online"
OFFLINE: Availability = "offline"
STATES: tuple[Availability, ...] = (UNKNOWN, ONLINE, OFFLINE)


def due_at(last_seen: datetime, interval_s: float, missed: int, grace_s: float = 0.0) -> datetime:
    """When a box last seen at ``last_seen`` has missed ``missed`` intervals (plus grace)."""
    return last_seen + timedelta(seconds=interval_s * missed + grace_s)


def missed_intervals(now: datetime, last_seen: datetime, interval_s: float) -> int:
    """How many whole heartbeat intervals have passed without a heartbeat."""
    if interval_s <= 0:
        return 0
    return max(0, int((now - last_seen).total_seconds() // interval_s))
