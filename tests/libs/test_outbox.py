"""The outbox and the consumer plumbing against a real PostgreSQL and NATS."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from uuid import uuid4

import nats
import pytest
import pytest_asyncio
from sqlalchemy import MetaData, func, select, text

from guificloud.bus.connection import Bus
from guificloud.bus.consumer import Consumer, Subscription
from guificloud.bus.outbox import OutboxPublisher
from guificloud.db.engine import make_engine, make_session_factory
from guificloud.db.messaging import MessagingTables, define_messaging_tables
from guificloud.db.uow import UnitOfWork
from guificloud.events.provisioner import BoxSync
from guificloud.events.registry import ZoneCreated
from guificloud.streams import BOXES, DEADLETTER, REGISTRY

pytestmark = pytest.mark.integration


@dataclass
class Parts:
    bus: Bus
    tables: MessagingTables
    outbox: OutboxPublisher
    factory: object

    def uow(self, **kw: str) -> UnitOfWork:
        return UnitOfWork(
            self.factory,
            self.tables,
            source="test",  # type: ignore[arg-type]
            after_commit=self.outbox.publish_committed,
            **kw,
        )


@pytest_asyncio.fixture
async def parts(database_url: str, nats_url: str) -> AsyncIterator[Parts]:
    metadata = MetaData(schema="t")
    tables = define_messaging_tables(metadata)
    engine = make_engine(database_url)
    async with engine.begin() as conn:
        await conn.execute(text("CREATE SCHEMA t"))
        await conn.run_sync(metadata.create_all)
    bus = await Bus.connect(nats_url, name="test")
    await bus.declare((REGISTRY, BOXES, DEADLETTER))
    factory = make_session_factory(engine)
    yield Parts(bus, tables, OutboxPublisher(bus, factory, tables, relay_grace_s=0), factory)
    await bus.close()
    await engine.dispose()


async def _count(parts: Parts) -> int:
    async with parts.factory() as session:  # type: ignore[operator]
        return int(
            (
                await session.execute(select(func.count()).select_from(parts.tables.outbox))
            ).scalar_one()
        )


async def _stream_count(parts: Parts, stream: str) -> int:
    return int((await parts.bus.js.stream_info(stream)).state.messages)


async def test_events_are_published_right_after_commit(parts: Parts) -> None:
    async with parts.uow() as uow:
        uow.emit(ZoneCreated(zone_id=uuid4(), name="z", parent_id=None))
        await uow.commit()
    assert await _stream_count(parts, "REGISTRY") == 1
    await parts.outbox.flush()
    assert await _count(parts) == 0


async def test_rolled_back_work_publishes_nothing(parts: Parts) -> None:
    async with parts.uow() as uow:
        uow.emit(ZoneCreated(zone_id=uuid4(), name="z", parent_id=None))
    assert await _stream_count(parts, "REGISTRY") == 0
    assert await _count(parts) == 0


async def test_relay_publishes_what_a_crash_left_and_duplicates_are_dropped(parts: Parts) -> None:
    crashed = UnitOfWork(parts.factory, parts.tables, source="test")  # type: ignore[arg-type]
    async with crashed as uow:  # committed, but nobody published: as after a crash
        envelope = uow.emit(ZoneCreated(zone_id=uuid4(), name="z", parent_id=None))
        await uow.commit()
    assert await _count(parts) == 1
    await parts.bus.publish("registry.zone.created", envelope)  # half-done publication
    assert await parts.outbox.relay_once() == 1
    assert await _count(parts) == 0
    assert await _stream_count(parts, "REGISTRY") == 1  # Nats-Msg-Id de-duplicated


async def test_consumer_retries_then_dead_letters_with_the_reason(parts: Parts) -> None:
    attempts: list[int] = []

    async def always_fails(event: BoxSync, uow: UnitOfWork) -> None:
        attempts.append(event.generation)
        raise RuntimeError("disk on fire")

    seen: list[int] = []

    async def records(event: BoxSync, uow: UnitOfWork) -> None:
        seen.append(event.generation)

    sub = Subscription(
        stream="BOXES",
        durable="t-fail",
        handlers={BoxSync: always_fails},
        subjects=("box.*.sync",),
        max_attempts=3,
        backoff_s=(0.05,),
    )
    consumer = Consumer(parts.bus, sub, parts.uow, service="test")
    ok = Consumer(
        parts.bus,
        Subscription(
            stream="BOXES", durable="t-ok", handlers={BoxSync: records}, subjects=("box.*.sync",)
        ),
        parts.uow,
        service="test",
    )
    async with parts.uow() as uow:
        uow.emit(BoxSync(box_id=uuid4(), generation=1))
        uow.emit(BoxSync(box_id=uuid4(), generation=2))
        await uow.commit()
    stop = asyncio.Event()
    tasks = [asyncio.create_task(consumer.run(stop)), asyncio.create_task(ok.run(stop))]
    try:
        for _ in range(100):
            if await _stream_count(parts, "DEADLETTER") == 2 and len(seen) == 2:
                break
            await asyncio.sleep(0.1)
    finally:
        stop.set()
        await asyncio.gather(*tasks)
    assert sorted(seen) == [1, 2]
    assert attempts.count(1) == 3 and attempts.count(2) == 3
    nc = await nats.connect(parts.bus.nc.connected_url.geturl())  # type: ignore[union-attr]
    msg = await nc.jetstream().get_last_msg("DEADLETTER", "deadletter.test.t-fail")
    await nc.close()
    assert msg.headers is not None
    assert "failed 3 times" in msg.headers["Guificloud-Reason"]
    assert "disk on fire" in msg.headers["Guificloud-Reason"]
