"""One box agent: NATS connection, desired-state loop, reports and heartbeats.

Four tasks share the agent's state: the connection (connects for ever; on every connect
and reconnect it re-reports the current state and asks for a resync), the reconcile loop
(fetches the desired state on start, on (re)connect, on a ``box.sync.requested`` command and
every ``resync_interval_s``, then applies it to the platform and the slivers), the reporter
and the heartbeats. None of them may end the agent: errors are logged and retried. ``run``
returns when ``stop`` is set. A report carries the platform's state and every sliver's.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass

import httpx
from nats.aio.msg import Msg
from structlog.contextvars import bind_contextvars, bound_contextvars

from guificloud.boxes import BoxConfig, DesiredState
from guificloud.bus import Bus
from guificloud.events.agent import AgentReported
from guificloud.logging import get_logger
from guificloud_agent.backoff import Backoff, wait_event
from guificloud_agent.cache import BlobCache
from guificloud_agent.capacity import Ledger, host_capacity
from guificloud_agent.commands import BadCommand, parse_sync
from guificloud_agent.desired import DesiredStateClient, DesiredStateUnavailable
from guificloud_agent.drivers.base import Driver
from guificloud_agent.heartbeat import Heartbeats
from guificloud_agent.httpclient import http_client
from guificloud_agent.images import Images
from guificloud_agent.metrics import MetricsSampler
from guificloud_agent.options import AgentOptions
from guificloud_agent.platform import Platform
from guificloud_agent.reconcile import Reconciler
from guificloud_agent.reporter import Reporter
from guificloud_agent.slivers import Slivers
from guificloud_agent.status import Status

log = get_logger(__name__)

CONNECTION_CHECK_S = 1.0
CLOSE_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Trigger:
    """Why the desired state is fetched: start, connect, reconnect, sync or periodic."""

    reason: str
    correlation_id: str | None = None
    causation_id: str | None = None


class Agent:
    def __init__(
        self,
        config: BoxConfig,
        options: AgentOptions,
        *,
        driver: Driver,
        metrics: MetricsSampler | None = None,
        http: httpx.AsyncClient | None = None,
        blobs: BlobCache | None = None,
    ) -> None:
        """``blobs``: a blob cache shared with other agents of the process (a simulated
        fleet); by default the agent has its own in ``options.cache_dir``."""
        self.config = config
        self.options = options
        self.driver = driver
        self.source = f"agent.{config.box_id}"
        self.reporter = Reporter(self.source)
        self.status: Status | None = None
        self.bus: Bus | None = None
        self.last_trigger: Trigger | None = None
        """Why the last reconcile ran; an operator (or a test) sees the agent has settled."""
        self.heartbeats = Heartbeats(
            config.box_id,
            source=self.source,
            interval_s=config.heartbeat_interval_s,
            metrics=metrics or MetricsSampler(options.cache_dir),
        )
        self.slivers: Slivers | None = None
        self._http = http
        self._blobs = blobs
        self._wake = asyncio.Event()
        self._trigger = Trigger("start")
        self._causation: str | None = None

    async def run(self, stop: asyncio.Event) -> None:
        bind_contextvars(box_id=str(self.config.box_id))
        async with AsyncExitStack() as stack:
            http = self._http
            if http is None:
                http = await stack.enter_async_context(http_client(ca=self.options.tls_ca))
            images = Images(self._blobs or BlobCache(self.options.cache_dir), http, self.options)
            self.slivers = Slivers(
                self.driver,
                self.options.state_dir,
                images,
                Ledger(host_capacity(self.options)),
                self._on_slivers,
                workers=self.options.sliver_workers,
            )
            reconciler = Reconciler(
                Platform(self.driver, self.options.state_dir, self.options.platform_limits),
                images,
                self.options,
                self._on_status,
                slivers=self.slivers,
                configured_keys=self.config.trusted_keys,
            )
            desired = DesiredStateClient(self.config, http)
            self._request(Trigger("start"))
            loops: dict[str, Callable[[], Awaitable[None]]] = {
                "connection": self._connection,
                "reconcile": lambda: self._reconcile_loop(desired, reconciler),
                "reporter": lambda: self.reporter.run(lambda: self.bus),
                "heartbeat": lambda: self.heartbeats.run(lambda: self.bus),
            }
            tasks = [asyncio.create_task(_guarded(n, f)) for n, f in loops.items()]
            log.info(
                "agent.started", driver=self.driver.name, cache_dir=str(self.options.cache_dir)
            )
            try:
                await stop.wait()
            finally:
                await _cancel(tasks)
                await self._close_bus()
                log.info("agent.stopped")

    # -- connection and commands -------------------------------------------------------

    async def _connection(self) -> None:
        backoff = Backoff(0.5, 10.0)
        while self.bus is None:
            bus: Bus | None = None
            try:
                bus = await Bus.connect(
                    self.config.nats_url,
                    name=f"agent-{self.config.box_id}",
                    ca=self.options.tls_ca,
                )
                await bus.nc.subscribe(f"box.{self.config.box_id}.>", cb=self._on_command)
                self.bus = bus
            except Exception as exc:  # noqa: BLE001 - bad URL, auth, server gone: retry
                if bus is not None:
                    await bus.nc.close()
                delay = backoff.next()
                log.warning("nats.connect_failed", error=repr(exc), retry_in_s=round(delay, 2))
                await asyncio.sleep(delay)
        self._connected("connect")
        seen = self.bus.nc.stats["reconnects"]
        while True:
            await asyncio.sleep(CONNECTION_CHECK_S)
            if self.bus.nc.stats["reconnects"] != seen:
                seen = self.bus.nc.stats["reconnects"]
                self._connected("reconnect")

    def _connected(self, reason: str) -> None:
        """Level-based: say where we are, and look again at where we should be."""
        log.info("agent.connected", reason=reason)
        if self.status is not None:
            self._report(self.status)
        self._request(Trigger(reason))

    async def _on_command(self, msg: Msg) -> None:
        try:
            command, envelope = parse_sync(msg.data, msg.subject)
        except BadCommand as exc:
            log.warning("command.ignored", subject=msg.subject, reason=str(exc))
            return
        log.info(
            "command.sync", generation=command.generation, correlation_id=envelope.correlation_id
        )
        self._request(Trigger("sync", envelope.correlation_id, str(envelope.id)))

    async def _close_bus(self) -> None:
        bus, self.bus = self.bus, None
        if bus is None:
            return
        if not bus.connected:
            await bus.nc.close()
            return
        try:
            await asyncio.wait_for(bus.close(), CLOSE_TIMEOUT_S)
        except TimeoutError:
            await bus.nc.close()

    # -- desired state -----------------------------------------------------------------

    def _request(self, trigger: Trigger) -> None:
        self._trigger = trigger
        self._wake.set()

    async def _next_trigger(self) -> Trigger:
        if not await wait_event(self._wake, self.options.resync_interval_s):
            return Trigger("periodic")
        self._wake.clear()
        return self._trigger

    async def _reconcile_loop(self, client: DesiredStateClient, reconciler: Reconciler) -> None:
        backoff = Backoff(0.2, min(10.0, self.options.resync_interval_s))
        while True:
            trigger = await self._next_trigger()
            desired = await self._fetch(client, backoff)
            self.heartbeats.interval_s = desired.heartbeat_interval_s
            self._causation = trigger.causation_id
            cid = trigger.correlation_id
            with bound_contextvars(correlation_id=cid) if cid else contextlib.nullcontext():
                await reconciler.apply(desired, periodic=trigger.reason == "periodic")
            self._causation = None
            self.last_trigger = trigger

    async def _fetch(self, client: DesiredStateClient, backoff: Backoff) -> DesiredState:
        while True:
            try:
                desired = await client.fetch()
            except DesiredStateUnavailable as exc:
                delay = backoff.next()
                log.warning("desired.unavailable", reason=str(exc), retry_in_s=round(delay, 2))
                await wait_event(self._wake, delay)
                continue
            backoff.reset()
            log.debug("desired.fetched", generation=desired.generation)
            return desired

    # -- reports --------------------------------------------------------

    def _on_status(self, status: Status) -> None:
        if status == self.status:
            return
        self.status = status
        log.info(
            "agent.state",
            state=status.state,
            generation=status.generation,
            digest=status.distro_digest,
            reason=status.reason,
        )
        self._report(status)

    def _on_slivers(self) -> None:
        """A sliver changed; before the platform's first state, that first report says it."""
        if self.status is not None:
            self._report(self.status)

    def _report(self, status: Status) -> None:
        self.reporter.submit(
            AgentReported(
                box_id=self.config.box_id,
                state=status.state,
                generation=status.generation,
                distro_digest=status.distro_digest,
                reason=status.reason,
                driver=self.driver.name,
                slivers=self.slivers.statuses() if self.slivers is not None else [],
            ),
            causation_id=self._causation,
        )


async def _guarded(name: str, loop: Callable[[], Awaitable[None]]) -> None:
    """Run a loop of the agent for as long as the agent runs, restarting it if it breaks."""
    while True:
        try:
            await loop()
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("agent.loop_crashed", loop=name)
            await asyncio.sleep(1.0)


async def _cancel(tasks: list[asyncio.Task[None]]) -> None:
    """Cancel until done: on Python 3.11 ``asyncio.wait_for`` (inside nats-py's request too)
    swallows a cancellation that arrives together with its result, so one is not enough."""
    pending = set(tasks)
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=0.2)
