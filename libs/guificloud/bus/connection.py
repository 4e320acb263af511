"""A NATS connection with JetStream, reconnecting for ever, closed by its owner.

With ``ca`` the connection is TLS (a ``tls://`` URL, or a server that requires it) and
trusts that CA alone; a ``tls://`` URL without it trusts the system's CAs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import nats
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from guificloud.events.envelope import Envelope
from guificloud.failures import describe, kind
from guificloud.logging import Throttle, get_logger
from guificloud.streams import StreamSpec
from guificloud.tls import client_context

log = get_logger(__name__)

MSG_ID = "Nats-Msg-Id"


class Bus:
    def __init__(self, nc: Client, source: str) -> None:
        self.nc = nc
        self.js: JetStreamContext = nc.jetstream()
        self.source = source
        self._closing: list[bool] = []

    @classmethod
    async def connect(
        cls,
        url: str,
        *,
        name: str,
        user: str | None = None,
        password: str | None = None,
        ca: Path | None = None,
        max_reconnect_attempts: int = -1,
        connect_timeout: float = 2.0,
    ) -> Bus:
        closing: list[bool] = []
        throttle = Throttle()  # every reconnect attempt reports its failure

        async def _disconnected() -> None:
            if not closing:
                log.warning("nats.disconnected", client=name)

        async def _reconnected() -> None:
            log.info("nats.reconnected", client=name)

        async def _error(exc: Exception) -> None:
            if count := throttle.admit(kind(exc)):
                log.warning("nats.error", client=name, error=describe(exc), count=count)

        kwargs: dict[str, Any] = {}
        if user is not None:
            kwargs.update(user=user, password=password)
        if ca is not None:  # a server that asks for TLS is verified against ca alone
            kwargs.update(tls=client_context(ca))
        nc = await nats.connect(
            url,
            name=name,
            max_reconnect_attempts=max_reconnect_attempts,
            reconnect_time_wait=0.5,
            connect_timeout=connect_timeout,
            drain_timeout=5,
            allow_reconnect=True,
            disconnected_cb=_disconnected,
            reconnected_cb=_reconnected,
            error_cb=_error,
            **kwargs,
        )
        bus = cls(nc, source=name)
        bus._closing = closing
        return bus

    @property
    def connected(self) -> bool:
        return bool(self.nc.is_connected)

    async def declare(self, specs: Iterable[StreamSpec]) -> None:
        """Create each stream, or bring its configuration up to date."""
        for spec in specs:
            config = StreamConfig(
                name=spec.name,
                subjects=list(spec.subjects),
                retention=RetentionPolicy.LIMITS,
                storage=StorageType.FILE,
                discard=DiscardPolicy.OLD,
                max_age=spec.max_age_s,
                duplicate_window=spec.duplicate_window_s,
            )
            try:
                await self.js.stream_info(spec.name)
            except NotFoundError:
                await self.js.add_stream(config)
            else:
                await self.js.update_stream(config)

    async def publish(self, subject: str, envelope: Envelope) -> None:
        """Publish to JetStream and wait for the ack; ``Nats-Msg-Id`` lets the server drop
        a second copy of the same event (outbox relay after a crash)."""
        await self.js.publish(
            subject,
            envelope.model_dump_json().encode(),
            headers={MSG_ID: str(envelope.id)},
        )

    async def close(self) -> None:
        if self.nc.is_closed:
            return
        self._closing.append(True)
        try:
            await self.nc.drain()
        except Exception:  # noqa: BLE001 - NATS already gone: close without draining
            with contextlib.suppress(Exception):
                await self.nc.close()
