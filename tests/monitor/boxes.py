"""What boxes and the provisioner say, as the tests send it over the real NATS."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
from uuid import UUID

from nats.aio.client import Client

from guificloud.bus.connection import MSG_ID
from guificloud.events.agent import Heartbeat, HostMetrics
from guificloud.events.envelope import Envelope
from guificloud.events.provisioner import BoxRegistered


def metrics(seq: int) -> HostMetrics:
    """Host metrics that differ from one heartbeat to the next, so the latest can be told."""
    return HostMetrics(
        load1=0.5 + seq / 100,
        load5=0.4,
        load15=0.3,
        mem_total_mb=4096,
        mem_used_mb=1000 + seq,
        disk_total_gb=120.0,
        disk_used_gb=12.5,
        uptime_s=3600 + seq,
    )


def heartbeat(
    box_id: UUID, seq: int, interval_s: float, sent_at: datetime | None = None
) -> Heartbeat:
    return Heartbeat(
        box_id=box_id,
        seq=seq,
        interval_s=interval_s,
        sent_at=sent_at or datetime.now(UTC),
        metrics=metrics(seq),
    )


def heartbeat_bytes(hb: Heartbeat) -> bytes:
    return Envelope.wrap(hb, source=f"agent.{hb.box_id}").model_dump_json().encode()


class HeartbeatSender:
    """A box's heartbeats as its agent sends them: core NATS, every ``interval_s``."""

    def __init__(self, nc: Client, box_id: UUID, interval_s: float) -> None:
        self.nc = nc
        self.box_id = box_id
        self.interval_s = interval_s
        self.seq = 0
        self.last: Heartbeat | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopped = asyncio.Event()

    async def send(self) -> Heartbeat:
        self.seq += 1
        hb = heartbeat(self.box_id, self.seq, self.interval_s)
        await self.nc.publish(hb.subject(), heartbeat_bytes(hb))
        await self.nc.flush()
        self.last = hb
        return hb

    async def burst(self, count: int) -> list[Heartbeat]:
        """``count`` heartbeats at once, each with its own ``sent_at``, later than the last."""
        base = datetime.now(UTC)
        if self.last is not None:
            base = max(base, self.last.sent_at + timedelta(milliseconds=1))
        sent = []
        for i in range(count):
            self.seq += 1
            hb = heartbeat(self.box_id, self.seq, self.interval_s, base + timedelta(milliseconds=i))
            await self.nc.publish(hb.subject(), heartbeat_bytes(hb))
            sent.append(hb)
        await self.nc.flush()
        self.last = sent[-1]
        return sent

    def start(self) -> HeartbeatSender:
        stopped = self._stopped = asyncio.Event()

        async def beat() -> None:
            while not stopped.is_set():
                await self.send()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stopped.wait(), timeout=self.interval_s)

        self._task = asyncio.create_task(beat())
        return self

    async def stop(self) -> None:
        """Stop after the heartbeat in flight, so ``last`` is the last one sent."""
        if self._task is not None:
            self._stopped.set()
            await self._task
            self._task = None


async def publish_registered(
    nc: Client, event: BoxRegistered, *, msg_id: str | None = None
) -> Envelope:
    """Publish as the provisioner's outbox does (JetStream, ``Nats-Msg-Id``)."""
    envelope = Envelope.wrap(event, source="provisioner")
    await publish_envelope(nc, envelope, msg_id=msg_id)
    return envelope


async def publish_envelope(nc: Client, envelope: Envelope, *, msg_id: str | None = None) -> None:
    await nc.jetstream().publish(
        BoxRegistered.SUBJECT,
        envelope.model_dump_json().encode(),
        headers={MSG_ID: msg_id or str(envelope.id)},
    )
