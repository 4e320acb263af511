"""Revoked sessions, as every service sees them: logout and token revocation take effect at
once instead of at the access token's expiry.

Each instance follows ``identity.token.revoked`` on the IDENTITY stream with an ordered
consumer of its own (every instance needs every revocation, so no durable is shared),
starting an access token's lifetime back: a revocation older than that concerns no access
token still valid. While the bus is down the bound is the token lifetime, as documented.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import UTC, datetime, timedelta

from nats.js.api import ConsumerConfig, DeliverPolicy
from pydantic import ValidationError

from guificloud.auth.principal import Principal
from guificloud.auth.verifier import TokenRejected
from guificloud.bus.connection import Bus
from guificloud.events.envelope import Envelope
from guificloud.events.identity import TokenRevoked
from guificloud.failure_log import FailureLog
from guificloud.logging import get_logger

log = get_logger(__name__)

DEFAULT_LIFETIME_S = 3600.0
"""The longest access token lifetime the identity service allows
(``GUIFICLOUD_IDENTITY_ACCESS_TOKEN_TTL_S``, ten minutes by default): no access token
outlives it, so no revocation needs keeping longer."""


class RevokedSessions:
    """The refresh and API tokens revoked within the last ``lifetime_s`` (their ids, as the
    ``sid`` of the access tokens minted from them)."""

    def __init__(self, lifetime_s: float = DEFAULT_LIFETIME_S) -> None:
        self.lifetime_s = lifetime_s
        self._revoked: dict[str, float] = {}
        self._failures = FailureLog()

    def revoke(self, token_id: str) -> None:
        self._revoked[token_id] = time.monotonic() + self.lifetime_s
        if len(self._revoked) % 1024 == 0:
            self._forget_old()

    def _forget_old(self) -> None:
        now = time.monotonic()
        self._revoked = {sid: until for sid, until in self._revoked.items() if until > now}

    async def check(self, principal: Principal) -> None:
        """A :data:`~guificloud.auth.verifier.SessionCheck`."""
        if principal.session_id is not None and principal.session_id in self._revoked:
            raise TokenRejected("revoked", "access token of a revoked session: log in again")

    async def follow(self, bus: Bus, stop: asyncio.Event) -> None:
        """Apply revocations from the bus until ``stop``; started again after a failure
        (logged once per kind every ten seconds while the bus is away)."""
        while not stop.is_set():
            try:
                await self._follow_once(bus, stop)
            except Exception as exc:  # noqa: BLE001 - the bus may be away; tried again
                self._failures.failed("auth.revocations_unavailable", exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=2.0)

    async def _follow_once(self, bus: Bus, stop: asyncio.Event) -> None:
        since = datetime.now(UTC) - timedelta(seconds=self.lifetime_s)
        config = ConsumerConfig(
            deliver_policy=DeliverPolicy.BY_START_TIME,
            opt_start_time=since,
        )
        sub = await bus.js.subscribe(
            TokenRevoked.SUBJECT, ordered_consumer=True, config=config, manual_ack=True
        )
        try:
            while not stop.is_set():
                try:
                    msg = await sub.next_msg(timeout=1.0)
                except TimeoutError:
                    continue
                try:
                    event = TokenRevoked.model_validate(Envelope.model_validate_json(msg.data).data)
                except (ValidationError, ValueError) as exc:
                    log.warning("auth.revocation_unreadable", error=str(exc)[:200])
                    continue
                self.revoke(event.token_id)
        finally:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
