"""Durable pull consumers: explicit ack, idempotent handlers, back-off, dead letters.

A message is handled inside one unit of work that first claims its event id in the inbox;
a redelivered event finds its id there and has no second effect. A message that can never
be handled (malformed, unknown type, invalid payload, or failing ``max_attempts`` times) goes
to the dead-letter stream with the reason; the consumer goes on with the next message.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Awaitable, Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from structlog.contextvars import bound_contextvars

from guificloud.bus.connection import MSG_ID, Bus
from guificloud.db.uow import UnitOfWork
from guificloud.errors import PermanentFailure
from guificloud.events.catalogue import decode
from guificloud.events.envelope import Envelope, Event
from guificloud.failpoints import failpoint
from guificloud.logging import get_logger
from guificloud.streams import deadletter_subject

log = get_logger(__name__)

Handler = Callable[[Any, UnitOfWork], Awaitable[None]]
UowFactory = Callable[..., UnitOfWork]

REASON = "Guificloud-Reason"


@dataclass(frozen=True)
class Subscription:
    """One durable consumer: a stream, the event types it handles and their handlers.

    ``partition`` (e.g. ``lambda e: e.box_id``) lets events of different partitions be
    handled concurrently, up to ``concurrency`` at once; without it a batch is handled in
    order."""

    stream: str
    durable: str
    handlers: Mapping[type[Event], Handler]
    subjects: tuple[str, ...] = ()
    partition: Callable[[Any], Hashable] | None = None
    concurrency: int = 16
    max_attempts: int = 8
    batch: int = 64
    ack_wait_s: float = 30.0
    backoff_s: tuple[float, ...] = field(default=(0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0))

    def filter_subjects(self) -> list[str]:
        """The subjects given, else those of the handled events (templates as wildcards)."""
        return list(self.subjects) or sorted(
            {re.sub(r"\{[^}]+\}", "*", cls.SUBJECT) for cls in self.handlers}
        )


class Consumer:
    def __init__(
        self, bus: Bus, subscription: Subscription, uow_factory: UowFactory, *, service: str
    ) -> None:
        self._bus = bus
        self._sub = subscription
        self._uow_factory = uow_factory
        self._service = service
        self._by_type = {(cls.TYPE, cls.VERSION): h for cls, h in subscription.handlers.items()}

    async def _bind(self) -> Any:
        sub = self._sub
        await self._bus.js.add_consumer(
            sub.stream,
            ConsumerConfig(
                durable_name=sub.durable,
                ack_policy=AckPolicy.EXPLICIT,
                deliver_policy=DeliverPolicy.ALL,
                filter_subjects=sub.filter_subjects(),
                ack_wait=sub.ack_wait_s,
                max_ack_pending=1000,
            ),
        )
        return await self._bus.js.pull_subscribe_bind(sub.durable, stream=sub.stream)

    async def run(self, stop: asyncio.Event) -> None:
        psub = None
        failures = 0
        while not stop.is_set():
            try:
                if psub is None:
                    psub = await self._bind()
                    if failures:
                        log.info("consumer.bound", durable=self._sub.durable)
                    failures = 0
                msgs = await psub.fetch(self._sub.batch, timeout=0.5)
            except (NatsTimeoutError, TimeoutError):
                continue
            except Exception as exc:  # noqa: BLE001 - NATS away or stream not declared yet
                if failures % 20 == 0:
                    log.warning(
                        "consumer.unavailable",
                        durable=self._sub.durable,
                        stream=self._sub.stream,
                        error=str(exc),
                    )
                failures += 1
                psub = None
                await asyncio.sleep(min(0.25 * failures, 2.0))
                continue
            await self.handle_batch(msgs)
        if psub is not None:
            with contextlib.suppress(Exception):
                await psub.unsubscribe()

    async def handle_batch(self, msgs: list[Msg]) -> None:
        """Handle a fetched batch: in order, or concurrently across partitions when the
        subscription names a partition key (order is kept within a partition)."""
        decoded = [(msg, await self._decode(msg)) for msg in msgs]
        valid = [(msg, parsed) for msg, parsed in decoded if parsed is not None]
        partition = self._sub.partition
        if partition is None or len(valid) < 2:
            for msg, parsed in valid:
                await self._process(msg, *parsed)
            return
        groups: dict[Hashable, list[tuple[Msg, tuple[Envelope, Event]]]] = {}
        for msg, parsed in valid:
            groups.setdefault(partition(parsed[1]), []).append((msg, parsed))
        limit = asyncio.Semaphore(self._sub.concurrency)

        async def run_group(items: list[tuple[Msg, tuple[Envelope, Event]]]) -> None:
            async with limit:
                for msg, parsed in items:
                    await self._process(msg, *parsed)

        await asyncio.gather(*(run_group(items) for items in groups.values()))

    async def handle(self, msg: Msg) -> None:
        parsed = await self._decode(msg)
        if parsed is not None:
            await self._process(msg, *parsed)

    async def _decode(self, msg: Msg) -> tuple[Envelope, Event] | None:
        """The message's envelope and event, or None once it has been dead-lettered."""
        try:
            envelope, event = decode(msg.data)
        except PermanentFailure as exc:
            await self._dead_letter(msg, str(exc))
            return None
        if (envelope.type, envelope.version) not in self._by_type:
            await self._dead_letter(msg, f"no handler for {envelope.type} v{envelope.version}")
            return None
        return envelope, event

    async def _process(self, msg: Msg, envelope: Envelope, event: Event) -> None:
        handler = self._by_type[(envelope.type, envelope.version)]
        with bound_contextvars(
            correlation_id=envelope.correlation_id,
            event_type=envelope.type,
            event_id=str(envelope.id),
        ):
            try:
                async with self._uow_factory(
                    causation_id=str(envelope.id), correlation_id=envelope.correlation_id
                ) as uow:
                    if await uow.claim(self._sub.durable, envelope.id, envelope.type):
                        await handler(event, uow)
                        failpoint(f"{self._sub.durable}.before_commit")
                        await uow.commit()
                        failpoint(f"{self._sub.durable}.after_commit")
                    else:
                        log.info("consumer.duplicate_skipped", durable=self._sub.durable)
                await msg.ack()
            except PermanentFailure as exc:
                await self._dead_letter(msg, str(exc))
            except Exception as exc:  # noqa: BLE001 - retried, then dead-lettered
                await self._retry_or_dead_letter(msg, exc)

    async def _retry_or_dead_letter(self, msg: Msg, exc: Exception) -> None:
        attempt = msg.metadata.num_delivered or 1
        reason = f"{type(exc).__name__}: {exc}"[:1000]
        if attempt >= self._sub.max_attempts:
            await self._dead_letter(msg, f"failed {attempt} times, last: {reason}")
            return
        delay = self._sub.backoff_s[min(attempt - 1, len(self._sub.backoff_s) - 1)]
        log.warning(
            "consumer.retry",
            durable=self._sub.durable,
            attempt=attempt,
            delay_s=delay,
            error=reason,
        )
        await msg.nak(delay=delay)

    async def _dead_letter(self, msg: Msg, reason: str) -> None:
        """Store the message with its reason, then ack it; on failure leave it for redelivery."""
        meta = msg.metadata
        headers = {
            REASON: reason.replace("\r", " ").replace("\n", " ")[:2000],
            "Guificloud-Original-Subject": msg.subject,
            "Guificloud-Original-Stream": meta.stream or "",
            "Guificloud-Original-Sequence": str(meta.sequence.stream if meta.sequence else ""),
            "Guificloud-Consumer": self._sub.durable,
            MSG_ID: f"dl:{meta.stream}:{meta.sequence.stream if meta.sequence else ''}",
        }
        try:
            await self._bus.js.publish(
                deadletter_subject(self._service, self._sub.durable), msg.data, headers=headers
            )
            await msg.term()
        except Exception as exc:  # noqa: BLE001 - retry later rather than lose the message
            log.error("consumer.dead_letter_failed", error=str(exc))
            await msg.nak(delay=1.0)
            return
        log.warning(
            "consumer.dead_lettered", durable=self._sub.durable, subject=msg.subject, reason=reason
        )
