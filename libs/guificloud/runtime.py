"""The composition root every service shares: bootstrap, serve, shut down in reverse order.

``Runtime.bootstrap`` builds engine, bus and outbox from settings; both the HTTP app and the
event consumers take their units of work from it. ``serve`` runs migrations, declares the
streams the service owns, starts its consumers, the outbox relay, background loops and the
HTTP server, and stops all of it on SIGTERM or SIGINT.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Generic, TypeVar

import uvicorn
from fastapi import FastAPI
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from guificloud.auth.keys import KeySet, http_jwks
from guificloud.auth.revocations import RevokedSessions
from guificloud.auth.verifier import Verifier
from guificloud.bus.connection import Bus
from guificloud.bus.consumer import Consumer, Subscription
from guificloud.bus.outbox import OutboxPublisher
from guificloud.db import migrations
from guificloud.db.availability import DatabaseWatch
from guificloud.db.engine import make_engine, make_session_factory
from guificloud.db.messaging import MessagingTables
from guificloud.db.uow import UnitOfWork
from guificloud.logging import configure_logging, get_logger
from guificloud.settings import ServiceSettings
from guificloud.streams import DEADLETTER, IDENTITY, StreamSpec

log = get_logger(__name__)

SettingsT = TypeVar("SettingsT", bound=ServiceSettings)
ResourcesT = TypeVar("ResourcesT")


def no_resources(_settings: ServiceSettings) -> None:
    """For a service that needs nothing beyond engine, bus and outbox."""


def no_subscriptions(_runtime: Runtime[Any, Any]) -> Sequence[Subscription]:
    """For a service that consumes no events."""
    return ()


@dataclass(frozen=True)
class ServiceDefinition(Generic[SettingsT, ResourcesT]):
    """What makes a service: its settings, schema, migrations, streams, consumers, API, loops,
    and the resources of its own (``resources(settings)``, built once in ``bootstrap``), all
    typed by the service's own settings class so no part needs to check what it was given."""

    name: str
    settings: type[SettingsT]
    metadata: MetaData
    messaging: MessagingTables
    migrations: str
    create_app: Callable[[Runtime[SettingsT, ResourcesT]], FastAPI]
    resources: Callable[[SettingsT], ResourcesT]
    streams: tuple[StreamSpec, ...] = ()
    subscriptions: Callable[[Runtime[SettingsT, ResourcesT]], Sequence[Subscription]] = (
        no_subscriptions
    )
    background: tuple[
        Callable[[Runtime[SettingsT, ResourcesT], asyncio.Event], Coroutine[Any, Any, None]], ...
    ] = field(default=())


class Runtime(Generic[SettingsT, ResourcesT]):
    def __init__(
        self,
        definition: ServiceDefinition[SettingsT, ResourcesT],
        settings: SettingsT,
        engine: AsyncEngine,
        bus: Bus,
    ) -> None:
        self.definition = definition
        self.settings = settings
        self.resources: ResourcesT = definition.resources(settings)
        self.engine = engine
        self.session_factory: async_sessionmaker[AsyncSession] = make_session_factory(engine)
        self.bus = bus
        self.database = DatabaseWatch(engine)
        self.outbox = OutboxPublisher(
            bus, self.session_factory, definition.messaging, suspect=self.database.suspect
        )
        self.revocations = RevokedSessions()
        self.verifier = Verifier(
            KeySet(http_jwks(settings.identity_url, ca=settings.tls_ca)),
            session_check=self.revocations.check,
            admin_token=settings.admin_token,
        )
        """Who calls: access tokens checked offline against the identity service's keys,
        revoked sessions refused as their revocations arrive (see :mod:`guificloud.auth`)."""

    @classmethod
    async def bootstrap(
        cls,
        definition: ServiceDefinition[SettingsT, ResourcesT],
        settings: SettingsT,
        *,
        migrate: bool = True,
    ) -> Runtime[SettingsT, ResourcesT]:
        engine = make_engine(settings.database_url)
        try:
            if migrate:
                await migrations.upgrade(engine, definition.migrations, settings.db_schema)
            bus = await Bus.connect(settings.nats_url, name=definition.name, ca=settings.tls_ca)
        except BaseException:
            await engine.dispose()
            raise
        try:
            # IDENTITY: every service follows its revocations (see guificloud.auth)
            await bus.declare(dict.fromkeys((*definition.streams, DEADLETTER, IDENTITY)))
            return cls(definition, settings, engine, bus)
        except BaseException:
            await bus.close()
            await engine.dispose()
            raise

    def uow(
        self, *, causation_id: str | None = None, correlation_id: str | None = None
    ) -> UnitOfWork:
        return UnitOfWork(
            self.session_factory,
            self.definition.messaging,
            source=self.definition.name,
            after_commit=self.outbox.publish_committed,
            causation_id=causation_id,
            correlation_id=correlation_id,
        )

    async def readiness(self) -> dict[str, bool]:
        """What ``/readyz`` reports: database reachable, migrations applied, NATS connected.

        A database that does not answer within seconds is not ready; the outage is logged
        once by the database watch, not once per probe."""
        checks = {"database": False, "migrations": False, "nats": self.bus.connected}
        if await self.database.check() is not None:
            self.database.suspect()
            return checks
        checks["database"] = True
        try:
            checks["migrations"] = await migrations.is_current(
                self.engine, self.definition.migrations, self.settings.db_schema
            )
        except Exception as exc:  # noqa: BLE001 - reported, not raised
            self.database.suspect(exc)
        return checks

    async def close(self) -> None:
        await self.database.close()
        await self.bus.close()
        await self.engine.dispose()


class _Server(uvicorn.Server):
    """uvicorn without its own signal handlers: ``serve`` owns SIGTERM and SIGINT."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def running(
    runtime: Runtime[Any, Any], stop: asyncio.Event
) -> AsyncIterator[list[asyncio.Task[None]]]:
    """The service's consumers, outbox relay and background loops, as tasks, while the block
    runs; then ``stop`` is set and they are given 5 s to finish. ``serve`` and the in-process
    test fixture both run a service through this, so both run the same parts."""
    definition = runtime.definition
    ack_wait = runtime.settings.consumer_ack_wait_s
    consumers = [
        Consumer(
            runtime.bus,
            sub if ack_wait is None else replace(sub, ack_wait_s=ack_wait),
            runtime.uow,
            service=definition.name,
            suspect=runtime.database.suspect,
        )
        for sub in definition.subscriptions(runtime)
    ]
    tasks = [
        asyncio.create_task(c.run(stop), name=f"consumer-{i}") for i, c in enumerate(consumers)
    ]
    tasks.append(asyncio.create_task(runtime.outbox.run_relay(stop), name="outbox-relay"))
    tasks.append(
        asyncio.create_task(runtime.revocations.follow(runtime.bus, stop), name="revocations")
    )
    tasks += [
        asyncio.create_task(bg(runtime, stop), name=bg.__name__) for bg in definition.background
    ]
    try:
        yield tasks
    finally:
        stop.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), timeout=5)


async def serve(definition: ServiceDefinition[SettingsT, Any], settings: SettingsT) -> None:
    """Run the service until SIGTERM or SIGINT."""
    configure_logging(
        definition.name,
        fmt=settings.log_format,
        level=settings.log_level,
        fallback=settings.log_fallback,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    runtime = await Runtime.bootstrap(definition, settings)
    try:
        async with running(runtime, stop) as tasks:
            app = definition.create_app(runtime)
            server = _Server(
                uvicorn.Config(
                    app,
                    host=settings.host,
                    port=settings.port,
                    log_config=None,
                    access_log=False,
                    lifespan="off",
                    ssl_certfile=settings.tls_cert,
                    ssl_keyfile=settings.tls_key,
                )
            )
            http = asyncio.create_task(server.serve(), name="http")
            log.info("service.started", url=settings.base_url, tasks=len(tasks))
            try:
                stopped = asyncio.create_task(stop.wait())
                done, _ = await asyncio.wait(
                    [*tasks, http, stopped], return_when=asyncio.FIRST_COMPLETED
                )
                for task in done:
                    error = task.exception()
                    if error is not None:
                        log.error("service.task_failed", task=task.get_name(), error=repr(error))
                        raise error
            finally:
                stop.set()
                server.should_exit = True
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(http, timeout=5)
    finally:
        await runtime.close()
        log.info("service.stopped")


async def migrate_only(definition: ServiceDefinition[Any, Any], settings: ServiceSettings) -> None:
    configure_logging(
        definition.name,
        fmt=settings.log_format,
        level=settings.log_level,
        fallback=settings.log_fallback,
    )
    engine = make_engine(settings.database_url)
    try:
        await migrations.upgrade(engine, definition.migrations, settings.db_schema)
        log.info("migrations.applied", schema=settings.db_schema)
    finally:
        await engine.dispose()
