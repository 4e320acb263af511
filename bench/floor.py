"""The same-run floor of the onboarding benchmark.

The same number of JetStream hops and PostgreSQL commits as onboarding one box, through the
same outbox, inbox and consumer code, with handlers that do nothing but pass the flow on:

    commit + publish  device.added           (the registry's request)
    consume, commit + publish  box.configured (the provisioner's handler)
    publish  agent reported deploying, running (the agent; no database)
    consume, commit; consume, commit + publish box.ready (the provisioner's two reports)
"""

from __future__ import annotations

import asyncio
import time
from uuid import UUID, uuid4

from sqlalchemy import MetaData, text

from guificloud.bus.connection import Bus
from guificloud.bus.consumer import Consumer, Subscription
from guificloud.bus.outbox import OutboxPublisher
from guificloud.db.engine import make_engine, make_session_factory
from guificloud.db.messaging import define_messaging_tables
from guificloud.db.uow import UnitOfWork
from guificloud.events.agent import AgentReported
from guificloud.events.envelope import Envelope
from guificloud.events.provisioner import BoxConfigured, BoxReady
from guificloud.events.registry import DeviceAdded, Hardware
from guificloud.streams import AGENTS, DEADLETTER, PROVISIONER, REGISTRY

HW = Hardware(arch="amd64", cores=2, ram_mb=4096, disk_gb=120)


async def floor_latencies_ms(nats_url: str, database_url: str, samples: int) -> list[float]:
    metadata = MetaData(schema="floor")
    tables = define_messaging_tables(metadata)
    engine = make_engine(database_url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA IF EXISTS floor CASCADE"))
        await conn.execute(text("CREATE SCHEMA floor"))
        await conn.run_sync(metadata.create_all)
    bus = await Bus.connect(nats_url, name="floor")
    await bus.declare((REGISTRY, PROVISIONER, AGENTS, DEADLETTER))
    factory = make_session_factory(engine)
    outbox = OutboxPublisher(bus, factory, tables)

    def uow(**kw: str | None) -> UnitOfWork:
        return UnitOfWork(
            factory, tables, source="floor", after_commit=outbox.publish_committed, **kw
        )  # type: ignore[arg-type]

    async def on_device(event: DeviceAdded, u: UnitOfWork) -> None:
        u.emit(
            BoxConfigured(
                box_id=event.device_id,
                node_id=event.node_id,
                subject_prefix=f"agent.{event.device_id}",
            )
        )

    async def on_report(event: AgentReported, u: UnitOfWork) -> None:
        if event.state == "running":
            u.emit(BoxReady(box_id=event.box_id, distro_digest=event.distro_digest or ""))

    async def agent_like(msg) -> None:  # type: ignore[no-untyped-def]
        configured = BoxConfigured.model_validate(Envelope.model_validate_json(msg.data).data)
        for state in ("deploying", "running"):
            report = AgentReported(
                box_id=configured.box_id,
                state=state,
                generation=1,
                distro_digest="sha256:" + "0" * 64,
                driver="floor",
            )
            await bus.publish(report.subject(), Envelope.wrap(report, source="floor-agent"))

    waiting: dict[UUID, asyncio.Future[None]] = {}

    async def on_ready(msg) -> None:  # type: ignore[no-untyped-def]
        ready = BoxReady.model_validate(Envelope.model_validate_json(msg.data).data)
        future = waiting.pop(ready.box_id, None)
        if future is not None and not future.done():
            future.set_result(None)

    stop = asyncio.Event()
    consumers = [
        Consumer(
            bus,
            Subscription(
                stream="REGISTRY", durable="floor-devices", handlers={DeviceAdded: on_device}
            ),
            uow,
            service="floor",
        ),
        Consumer(
            bus,
            Subscription(
                stream="AGENTS", durable="floor-agents", handlers={AgentReported: on_report}
            ),
            uow,
            service="floor",
        ),
    ]
    tasks = [asyncio.create_task(c.run(stop)) for c in consumers]
    subs = [
        await bus.nc.subscribe("provisioner.box.configured", cb=agent_like),
        await bus.nc.subscribe("provisioner.box.ready", cb=on_ready),
    ]
    latencies: list[float] = []
    try:
        for _ in range(samples + 5):
            device = uuid4()
            done = asyncio.get_running_loop().create_future()
            waiting[device] = done
            start = time.perf_counter()
            async with uow() as u:
                u.emit(
                    DeviceAdded(
                        device_id=device,
                        node_id=uuid4(),
                        zone_id=uuid4(),
                        name="floor",
                        type="cloudy",
                        hardware=HW,
                    )
                )
                await u.commit()
            await asyncio.wait_for(done, 30)
            latencies.append((time.perf_counter() - start) * 1000)
    finally:
        stop.set()
        for sub in subs:
            await sub.unsubscribe()
        await asyncio.gather(*tasks)
        for stream in ("REGISTRY", "PROVISIONER", "AGENTS", "DEADLETTER"):
            await bus.js.delete_stream(stream)
        await bus.close()
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA floor CASCADE"))
        await engine.dispose()
    return latencies[5:]  # the first few warm connections and caches
