"""Reports to JetStream (``agent.<box>.reported``), in order, never lost while NATS is away.

Publishing waits for the JetStream ack and is retried with back-off while NATS is
disconnected or the ``AGENTS`` stream (declared by the provisioner) does not exist yet. The
provisioner's view is level-based, so when many reports are waiting only the newest
``max_pending`` are kept.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

from guificloud.bus import Bus
from guificloud.events.agent import AgentReported
from guificloud.events.envelope import Envelope
from guificloud.logging import get_logger
from guificloud_agent.backoff import Backoff

log = get_logger(__name__)


class Reporter:
    def __init__(self, source: str, *, max_pending: int = 32) -> None:
        self.source = source
        self._pending: deque[tuple[str, Envelope]] = deque(maxlen=max_pending)
        self._ready = asyncio.Event()

    def submit(self, event: AgentReported, *, causation_id: str | None = None) -> None:
        """Queue a report; it carries the correlation id of the flow in progress."""
        envelope = Envelope.wrap(event, source=self.source, causation_id=causation_id)
        self._pending.append((event.subject(), envelope))
        self._ready.set()

    async def run(self, bus: Callable[[], Bus | None]) -> None:
        """Publish what is queued, as long as the agent runs."""
        backoff = Backoff(0.2, 5.0)
        while True:
            await self._ready.wait()
            while self._pending:
                current = bus()
                if current is None or not current.connected:
                    await asyncio.sleep(backoff.next())
                    continue
                subject, envelope = self._pending[0]
                try:
                    await current.publish(subject, envelope)
                except Exception as exc:  # noqa: BLE001 - NATS away or no stream yet: retry
                    delay = backoff.next()
                    log.warning(
                        "report.retry", subject=subject, error=repr(exc), retry_in_s=round(delay, 2)
                    )
                    await asyncio.sleep(delay)
                    continue
                if self._pending and self._pending[0][1] is envelope:
                    self._pending.popleft()
                backoff.reset()
                log.info(
                    "report.published",
                    state=envelope.data["state"],
                    generation=envelope.data["generation"],
                    slivers=len(envelope.data.get("slivers", [])),
                )
            self._ready.clear()
