"""Consumers through a real database outage: the database is reached through a TCP proxy the
test cuts and restores, so connections are dropped and refused for real."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from uuid import uuid4

import pytest
import pytest_asyncio
from nats.js.errors import NotFoundError
from sqlalchemy.ext.asyncio import AsyncEngine
from structlog.testing import capture_logs

from guificloud.bus import consumer as consumer_module
from guificloud.bus.connection import Bus
from guificloud.bus.consumer import Consumer, Subscription, UowFactory
from guificloud.bus.deadletters import DeadLetters
from guificloud.db.availability import DatabaseWatch
from guificloud.db.engine import make_engine
from guificloud.db.uow import UnitOfWork
from guificloud.events.envelope import Envelope
from guificloud.events.provisioner import BoxSync
from guificloud.streams import BOXES, DEADLETTER, StreamSpec
from guificloud.testing.pgproxy import PgProxy, pg_proxy
from tests.libs.messaging_support import create_messaging, eventually, uow_factory

pytestmark = pytest.mark.integration


@dataclass
class Rig:
    bus: Bus
    proxy: PgProxy
    engine: AsyncEngine
    uow: UowFactory
    watch: DatabaseWatch

    async def publish(self, generation: int) -> None:
        event = BoxSync(box_id=uuid4(), generation=generation)
        await self.bus.publish(event.subject(), Envelope.wrap(event, source="test"))

    async def deliveries(self, durable: str) -> int:
        """Every delivery of the durable so far, redeliveries included."""
        try:
            info = await self.bus.js.consumer_info(BOXES.name, durable)
        except NotFoundError:  # not bound yet
            return 0
        return int(info.delivered.consumer_seq or 0)

    async def dead_letters(self) -> int:
        return int((await self.bus.js.stream_info(DEADLETTER.name)).state.messages)


@pytest_asyncio.fixture
async def rig(database_url: str, nats_url: str) -> AsyncIterator[Rig]:
    async with pg_proxy(database_url) as proxy:
        engine = make_engine(proxy.url())
        tables = await create_messaging(engine)
        bus = await Bus.connect(nats_url, name="test")
        await bus.declare((BOXES, DEADLETTER))
        watch = DatabaseWatch(engine, probe_interval_s=0.2)
        yield Rig(bus, proxy, engine, uow_factory(engine, tables), watch)
        await watch.close()
        await bus.close()
        await engine.dispose()


async def _running(consumer: Consumer) -> tuple[asyncio.Event, asyncio.Task[None]]:
    stop = asyncio.Event()
    return stop, asyncio.create_task(consumer.run(stop))


async def test_a_message_is_kept_through_a_database_outage_and_handled_once_after(
    rig: Rig,
) -> None:
    handled: list[int] = []

    async def handler(event: BoxSync, _uow: UnitOfWork) -> None:
        handled.append(event.generation)

    sub = Subscription(
        stream=BOXES.name,
        durable="t-outage",
        handlers={BoxSync: handler},
        subjects=("box.*.sync",),
        max_attempts=3,
    )
    consumer = Consumer(rig.bus, sub, rig.uow, service="test", suspect=rig.watch.suspect)
    rig.proxy.cut()
    await rig.publish(1)
    with capture_logs() as logs:
        stop, task = await _running(consumer)
        try:

            async def beyond_max_attempts() -> bool:
                return bool(await rig.deliveries("t-outage") > sub.max_attempts + 2)

            await eventually(beyond_max_attempts, what="deliveries beyond max_attempts")
            assert not rig.watch.available
            assert handled == [] and await rig.dead_letters() == 0
            rig.proxy.restore()
            await eventually(lambda: handled == [1] and rig.watch.available)
        finally:
            stop.set()
            await task
    assert await rig.dead_letters() == 0, "an outage never makes a dead letter"
    info = await rig.bus.js.consumer_info(BOXES.name, "t-outage")
    assert info.num_ack_pending == 0 and info.num_pending == 0
    assert handled == [1]
    said = [entry["event"] for entry in logs]
    assert said.count("database.unavailable") == 1 and said.count("database.available") == 1
    assert said.count("consumer.waiting") == 1, "one line per kind and 10 s, not per attempt"


async def test_a_bad_payload_is_dead_lettered_at_once_with_its_reason(rig: Rig) -> None:
    async def handler(_event: BoxSync, _uow: UnitOfWork) -> None:
        raise AssertionError("never called for a bad payload")

    sub = Subscription(
        stream=BOXES.name, durable="t-bad", handlers={BoxSync: handler}, subjects=("box.*.sync",)
    )
    consumer = Consumer(rig.bus, sub, rig.uow, service="test")
    await rig.bus.js.publish(f"box.{uuid4()}.sync", b'{"type": "box.sync.requested"')
    stop, task = await _running(consumer)
    try:

        async def dead_lettered() -> bool:
            return await rig.dead_letters() > 0

        await eventually(dead_lettered, what="a dead letter")
    finally:
        stop.set()
        await task
    assert await rig.deliveries("t-bad") == 1, "dead-lettered on its first delivery"
    [letter] = await DeadLetters(rig.bus.js, "test").list(durable="t-bad")
    assert letter.reason.startswith("malformed envelope")
    assert letter.subject.startswith("box.") and letter.stream == BOXES.name


async def test_a_slow_handler_keeps_its_message_in_progress(rig: Rig) -> None:
    calls: list[int] = []

    async def slow(event: BoxSync, _uow: UnitOfWork) -> None:
        calls.append(event.generation)
        await asyncio.sleep(2.5)

    sub = Subscription(
        stream=BOXES.name,
        durable="t-slow",
        handlers={BoxSync: slow},
        subjects=("box.*.sync",),
        ack_wait_s=1.0,
    )
    consumer = Consumer(rig.bus, sub, rig.uow, service="test")
    await rig.publish(1)
    stop, task = await _running(consumer)
    try:
        await eventually(lambda: calls == [1])
        await eventually(lambda: _ack_pending_is(rig, "t-slow", 0))
    finally:
        stop.set()
        await task
    info = await rig.bus.js.consumer_info(BOXES.name, "t-slow")
    assert info.num_redelivered == 0 and info.delivered.consumer_seq == 1, "never handed out twice"


async def test_what_a_dead_instance_held_is_redelivered_within_the_short_ack_wait(
    rig: Rig,
) -> None:
    handled: list[int] = []

    async def handler(event: BoxSync, _uow: UnitOfWork) -> None:
        handled.append(event.generation)

    sub = Subscription(
        stream=BOXES.name, durable="t-held", handlers={BoxSync: handler}, subjects=("box.*.sync",)
    )
    first = Consumer(rig.bus, sub, rig.uow, service="test")
    stop, task = await _running(first)  # creates the durable with the subscription's ack wait
    await eventually(lambda: _durable_exists(rig, "t-held"))
    stop.set()
    await task
    info = await rig.bus.js.consumer_info(BOXES.name, "t-held")
    assert info.config.ack_wait == 3.0
    await rig.publish(1)
    dead = await rig.bus.js.pull_subscribe_bind("t-held", stream=BOXES.name)
    [held] = await dead.fetch(1, timeout=5)  # taken, never acknowledged: the instance died
    await dead.unsubscribe()
    stop, task = await _running(Consumer(rig.bus, sub, rig.uow, service="test"))
    try:
        await eventually(lambda: handled == [1], timeout_s=12.0, what="redelivery")
    finally:
        stop.set()
        await task
    assert held.metadata.num_delivered == 1


async def test_a_missing_stream_is_awaited_quietly_then_warned_of_once(
    nats_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(consumer_module, "STREAM_WAIT_WARN_S", 1.5)
    later = StreamSpec("LATER", ("later.>",))

    async def handler(_event: BoxSync, _uow: UnitOfWork) -> None:
        pass

    bus = await Bus.connect(nats_url, name="test")
    sub = Subscription(
        stream=later.name, durable="t-later", handlers={BoxSync: handler}, subjects=("later.>",)
    )
    consumer = Consumer(bus, sub, lambda **_: None, service="test")  # never gets a message
    try:
        with capture_logs() as logs:
            stop, task = await _running(consumer)
            await asyncio.sleep(3.0)
            await bus.declare((later,))
            await eventually(lambda: _durable_exists_on(bus, later.name, "t-later"))
            await asyncio.sleep(0.2)
            stop.set()
            await task
    finally:
        await bus.close()
    said = [(entry["log_level"], entry["event"]) for entry in logs]
    assert said.count(("info", "consumer.waiting_for_stream")) == 1
    assert said.count(("warning", "consumer.stream_missing")) == 1
    assert ("info", "consumer.bound") in said
    assert not [e for level, e in said if level == "warning" and e != "consumer.stream_missing"]


async def _ack_pending_is(rig: Rig, durable: str, expected: int) -> bool:
    info = await rig.bus.js.consumer_info(BOXES.name, durable)
    return bool(info.num_ack_pending == expected)


async def _durable_exists(rig: Rig, durable: str) -> bool:
    return await _durable_exists_on(rig.bus, BOXES.name, durable)


async def _durable_exists_on(bus: Bus, stream: str, durable: str) -> bool:
    try:
        await bus.js.consumer_info(stream, durable)
    except NotFoundError:
        return False
    return True
