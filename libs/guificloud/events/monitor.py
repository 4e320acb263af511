"""Events of the monitor: availability of boxes."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from guificloud.events.envelope import Event


class BoxOnline(Event):
    TYPE = "monitor.box.online"
    SUBJECT = "monitor.box.online"

    box_id: UUID
    last_seen: datetime


class BoxOffline(Event):
    """Declared after three missed heartbeat intervals."""

    TYPE = "monitor.box.offline"
    SUBJECT = "monitor.box.offline"

    box_id: UUID
    last_seen: datetime
    missed: int
