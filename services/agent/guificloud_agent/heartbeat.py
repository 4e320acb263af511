"""Heartbeats: every ``interval_s`` an envelope with real host metrics, over core NATS.

Telemetry, not a fact: sent only while connected, never queued; the monitor batches them and
counts missed intervals (the interval travels in each heartbeat).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from uuid import UUID

from guificloud.bus import Bus
from guificloud.events.agent import Heartbeat
from guificloud.events.envelope import Envelope, utcnow
from guificloud.logging import get_logger
from guificloud_agent.metrics import MetricsSampler

log = get_logger(__name__)


class Heartbeats:
    def __init__(
        self, box_id: UUID, *, source: str, interval_s: float, metrics: MetricsSampler
    ) -> None:
        self.box_id = box_id
        self.source = source
        self.interval_s = interval_s
        """The desired state may change it; the next beat uses the new value."""
        self.metrics = metrics
        self.seq = 0

    async def run(self, bus: Callable[[], Bus | None]) -> None:
        while True:
            current = bus()
            if current is not None and current.connected:
                await self._beat(current)
            await asyncio.sleep(self.interval_s)

    async def _beat(self, bus: Bus) -> None:
        self.seq += 1
        beat = Heartbeat(
            box_id=self.box_id,
            seq=self.seq,
            interval_s=self.interval_s,
            sent_at=utcnow(),
            metrics=self.metrics.sample(),
        )
        payload = Envelope.wrap(beat, source=self.source).model_dump_json().encode()
        try:
            await bus.nc.publish(beat.subject(), payload)
        except Exception as exc:  # noqa: BLE001 - telemetry: the next one will do
            log.warning("heartbeat.failed", seq=self.seq, error=repr(exc))
