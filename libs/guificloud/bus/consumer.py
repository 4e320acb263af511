"""Durable pull consumers: explicit ack, idempotent handlers, back-off, dead letters.

A message is handled inside one unit of work that first claims its event id in the inbox;
a redelivered event finds its id there and has no second effect. What a failure does depends
on :func:`guificloud.failures.classify`:

- transient (database or bus away, deadlock, timeout): the message is kept, redelivered
  after a growing delay (``backoff_s``, its last value repeated) for as long as the outage
  lasts, never dead-lettered; the rest of its partition in the batch waits with it, so order
  holds and an outage is not met 64 times a batch;
- permanent (malformed, unknown type, invalid payload, a subject that is not the payload's,
  :class:`PermanentFailure`): the message goes to the dead-letter stream with the reason at
  once;
- anything else (a bug, most likely): retried, and dead-lettered with the reason once it
  failed ``max_attempts`` times. Deliveries lost to an outage do not count: this instance
  counts the failures itself (another instance, or a restart, counts afresh: more attempts,
  never fewer).

Messages held are kept in progress (``+WPI``) while they wait or are handled, so the ack wait
can be short: JetStream hands what a dead instance held to another within seconds.
Failures are logged one line per kind and ten seconds, with ``count=``.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Awaitable, Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from structlog.contextvars import bound_contextvars

from guificloud.bus.connection import Bus
from guificloud.bus.deadletters import DeadLetters
from guificloud.bus.progress import InProgress
from guificloud.db.uow import UnitOfWork
from guificloud.errors import PermanentFailure
from guificloud.events.catalogue import decode
from guificloud.events.envelope import Envelope, Event
from guificloud.failpoints import failpoint
from guificloud.failures import Failure, causes, classify, describe, kind
from guificloud.logging import Throttle, get_logger

log = get_logger(__name__)

Handler = Callable[[Any, UnitOfWork], Awaitable[None]]
UowFactory = Callable[..., UnitOfWork]
Suspect = Callable[[BaseException], None]

STREAM_NOT_FOUND = 10059
STREAM_WAIT_WARN_S = 30.0
FAILURE_MEMORY = 10_000


@dataclass(frozen=True)
class Subscription:
    """One durable consumer: a stream, the event types it handles and their handlers.

    ``partition`` (e.g. ``lambda e: e.box_id``) lets events of different partitions be
    handled concurrently, up to ``concurrency`` at once; without it a batch is handled in
    order. ``ack_wait_s`` is how soon JetStream redelivers what a dead instance held."""

    stream: str
    durable: str
    handlers: Mapping[type[Event], Handler]
    subjects: tuple[str, ...] = ()
    partition: Callable[[Any], Hashable] | None = None
    concurrency: int = 16
    max_attempts: int = 8
    batch: int = 64
    ack_wait_s: float = 3.0
    """About what a killed instance takes to be started again and bind: what it held is
    free again by then, and a live instance's in-progress acks (every second) keep what it
    holds unless its event loop stalls for two seconds."""
    backoff_s: tuple[float, ...] = field(default=(0.1, 0.2, 0.5, 1.0, 2.0))
    """Delays before a failed message comes back; the last repeats for as long as an outage
    lasts, so that the work waiting resumes within about two seconds of its end."""

    def filter_subjects(self) -> list[str]:
        """The subjects given, else those of the handled events (templates as wildcards)."""
        return list(self.subjects) or sorted(
            {re.sub(r"\{[^}]+\}", "*", cls.SUBJECT) for cls in self.handlers}
        )

    def delay_s(self, attempt: int) -> float:
        return self.backoff_s[min(max(attempt, 1), len(self.backoff_s)) - 1]


Item = tuple[Msg, Envelope, Event]


@dataclass
class _Unbound:
    """Since when the consumer could not bind, and what it said of it."""

    since: float | None = None
    said: bool = False
    warned: bool = False


class Consumer:
    def __init__(
        self,
        bus: Bus,
        subscription: Subscription,
        uow_factory: UowFactory,
        *,
        service: str,
        suspect: Suspect | None = None,
    ) -> None:
        """``suspect`` is told of each transient failure (the runtime's database watch)."""
        self._bus = bus
        self._sub = subscription
        self._uow_factory = uow_factory
        self._suspect = suspect
        self._dead_letters = DeadLetters(bus.js, service)
        self._by_type = {(cls.TYPE, cls.VERSION): h for cls, h in subscription.handlers.items()}
        self._failed: dict[tuple[str, int], int] = {}
        self._throttle = Throttle()
        self._progress: InProgress | None = None

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
        """Fetch and handle batches until ``stop``; never raises for NATS or the database."""
        psub = None
        unbound = _Unbound()
        while not stop.is_set():
            try:
                if psub is None:
                    psub = await self._bind()
                    if unbound.since is not None:
                        log.info("consumer.bound", durable=self._sub.durable)
                    unbound = _Unbound()
                msgs = await psub.fetch(self._sub.batch, timeout=0.5)
            except (NatsTimeoutError, TimeoutError):
                continue
            except Exception as exc:  # noqa: BLE001 - NATS away, or the stream not declared yet
                psub = None
                self._unbound(exc, unbound)
                await asyncio.sleep(0.5)
                continue
            await self.handle_batch(msgs)
        if psub is not None:
            with contextlib.suppress(Exception):
                await psub.unsubscribe()

    def _unbound(self, exc: Exception, state: _Unbound) -> None:
        """A missing stream is awaited quietly (its owner may simply start later): said once,
        warned of if still missing after a while. Other failures: one line per 10 s."""
        fields = {"durable": self._sub.durable, "stream": self._sub.stream}
        now = time.monotonic()
        if state.since is None:
            state.since = now
        if getattr(exc, "err_code", None) != STREAM_NOT_FOUND:
            if count := self._throttle.admit(("unavailable", kind(exc))):
                log.warning("consumer.unavailable", error=describe(exc), count=count, **fields)
        elif not state.said:
            state.said = True
            log.info("consumer.waiting_for_stream", **fields)
        elif not state.warned and now - state.since >= STREAM_WAIT_WARN_S:
            state.warned = True
            log.warning("consumer.stream_missing", waited_s=round(now - state.since), **fields)

    async def handle_batch(self, msgs: list[Msg]) -> None:
        """Handle a fetched batch: in order, or concurrently across partitions when the
        subscription names a partition key (order is kept within a partition)."""
        async with InProgress(msgs, every_s=max(self._sub.ack_wait_s / 3, 0.2)) as progress:
            self._progress = progress
            try:
                decoded = [(msg, await self._decode(msg)) for msg in msgs]
                valid = [(msg, *parsed) for msg, parsed in decoded if parsed is not None]
                partition = self._sub.partition
                if partition is None or len(valid) < 2:
                    await self._in_order(valid)
                    return
                groups: dict[Hashable, list[Item]] = {}
                for item in valid:
                    groups.setdefault(partition(item[2]), []).append(item)
                limit = asyncio.Semaphore(self._sub.concurrency)

                async def run_group(items: list[Item]) -> None:
                    async with limit:
                        await self._in_order(items)

                await asyncio.gather(*(run_group(items) for items in groups.values()))
            finally:
                self._progress = None

    async def handle(self, msg: Msg) -> None:
        await self.handle_batch([msg])

    async def _in_order(self, items: list[Item]) -> None:
        """One after the other; after a transient failure the rest waits as long."""
        delay: float | None = None
        for msg, envelope, event in items:
            if delay is None:
                delay = await self._process(msg, envelope, event)
            else:
                await self._settle(msg, msg.nak, delay=delay)

    async def _decode(self, msg: Msg) -> tuple[Envelope, Event] | None:
        """The message's envelope and event, or None once it has been dead-lettered."""
        try:
            envelope, event = decode(msg.data, subject=msg.subject)
        except PermanentFailure as exc:
            await self._dead_letter(msg, str(exc))
            return None
        if (envelope.type, envelope.version) not in self._by_type:
            await self._dead_letter(msg, f"no handler for {envelope.type} v{envelope.version}")
            return None
        return envelope, event

    async def _process(self, msg: Msg, envelope: Envelope, event: Event) -> float | None:
        """Handle one message; the redelivery delay if it failed transiently, else None."""
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
            except Exception as exc:  # noqa: BLE001 - sorted by classify: kept, dead-lettered or retried
                return await self._failed_with(msg, exc)
            self._failed.pop(_key(msg), None)
            await self._settle(msg, msg.ack)  # if lost, the redelivery finds the inbox claim
            return None

    async def _failed_with(self, msg: Msg, exc: Exception) -> float | None:
        failure = classify(exc)
        if failure is Failure.PERMANENT:
            refusal = next(e for e in causes(exc) if isinstance(e, PermanentFailure))
            self._failed.pop(_key(msg), None)
            await self._dead_letter(msg, str(refusal))
            return None
        if failure is Failure.TRANSIENT:
            delay = self._sub.delay_s(msg.metadata.num_delivered or 1)
            if self._suspect is not None:
                self._suspect(exc)
            if count := self._throttle.admit(("waiting", kind(exc))):
                log.warning(
                    "consumer.waiting",
                    durable=self._sub.durable,
                    error=describe(exc),
                    count=count,
                    delay_s=delay,
                )
            await self._settle(msg, msg.nak, delay=delay)
            return delay
        await self._retry_or_dead_letter(msg, exc)
        return None

    async def _retry_or_dead_letter(self, msg: Msg, exc: Exception) -> None:
        key = _key(msg)
        attempt = self._failed.pop(key, 0) + 1
        reason = describe(exc)
        if attempt >= self._sub.max_attempts:
            await self._dead_letter(msg, f"failed {attempt} times, last: {reason}")
            return
        self._failed[key] = attempt
        while len(self._failed) > FAILURE_MEMORY:  # forget the oldest: more attempts at worst
            del self._failed[next(iter(self._failed))]
        delay = self._sub.delay_s(attempt)
        if count := self._throttle.admit(("retry", kind(exc))):
            log.warning(
                "consumer.retry",
                durable=self._sub.durable,
                attempt=attempt,
                delay_s=delay,
                error=reason,
                count=count,
                exc_info=exc,
            )
        await self._settle(msg, msg.nak, delay=delay)

    async def _dead_letter(self, msg: Msg, reason: str) -> None:
        """Store the message with its reason, then terminate it; on failure leave it for
        redelivery rather than lose it."""
        try:
            await self._dead_letters.put(msg, self._sub.durable, reason)
        except Exception as exc:  # noqa: BLE001 - NATS away: kept, tried again on redelivery
            log.error("consumer.dead_letter_failed", error=describe(exc))
            await self._settle(msg, msg.nak, delay=1.0)
            return
        await self._settle(msg, msg.term)
        log.warning(
            "consumer.dead_lettered", durable=self._sub.durable, subject=msg.subject, reason=reason
        )

    async def _settle(self, msg: Msg, how: Callable[..., Awaitable[None]], **kwargs: float) -> None:
        """Ack, nak or term; with NATS away the ack wait brings the message back anyway."""
        if self._progress is not None:
            self._progress.settled(msg)
        try:
            await how(**kwargs)
        except Exception as exc:  # noqa: BLE001 - logged, one line per kind and 10 s
            if count := self._throttle.admit(("settle", kind(exc))):
                log.warning(
                    "consumer.ack_failed",
                    durable=self._sub.durable,
                    error=describe(exc),
                    count=count,
                )


def _key(msg: Msg) -> tuple[str, int]:
    meta = msg.metadata
    return (meta.stream or "", meta.sequence.stream if meta.sequence else 0)
