"""The identity service's published keys (JWKS), cached by every service that verifies.

Fetched on first use; fetched again every ``refresh_s`` (a key rotation is picked up by
itself) and when a token names a key id not in the cache, at most once per ``min_refetch_s``
(a flood of tokens with made-up key ids cannot turn into a flood of fetches). When a fetch
fails the cached keys stay in use; with none cached, verification says the keys are
unavailable (503), never that the token is bad.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import httpx
from jwt import PyJWK
from jwt.exceptions import PyJWKError

from guificloud.auth.claims import ALGORITHM
from guificloud.logging import get_logger
from guificloud.tls import verify

log = get_logger(__name__)

Fetch = Callable[[], Awaitable[Mapping[str, Any]]]
JWKS_PATH = "/api/v1/auth/jwks.json"


class KeysUnavailable(Exception):
    """No key set could be had from the identity service yet."""


def http_jwks(identity_url: str, *, ca: Path | None = None, timeout_s: float = 5.0) -> Fetch:
    """Fetch from the identity service's ``/api/v1/auth/jwks.json`` (over https, trusting
    ``ca`` when given). A client per fetch: fetches are minutes apart, and nothing is left
    to close."""
    url = identity_url.rstrip("/") + JWKS_PATH
    trust = verify(ca)

    async def fetch() -> Mapping[str, Any]:
        async with httpx.AsyncClient(timeout=timeout_s, verify=trust) as client:
            response = await client.get(url)
            response.raise_for_status()
            document: Mapping[str, Any] = response.json()
            return document

    return fetch


def parse_jwks(document: Mapping[str, Any]) -> dict[str, PyJWK]:
    """Every usable Ed25519 key of the set by key id; others are skipped with a warning."""
    keys: dict[str, PyJWK] = {}
    for jwk in document.get("keys", []):
        kid = jwk.get("kid") if isinstance(jwk, dict) else None
        if not kid:
            continue
        try:
            keys[kid] = PyJWK(jwk, algorithm=ALGORITHM)
        except PyJWKError as exc:
            log.warning("auth.jwk_skipped", kid=kid, error=str(exc))
    return keys


class KeySet:
    def __init__(
        self,
        fetch: Fetch,
        *,
        refresh_s: float = 300.0,
        min_refetch_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._refresh_s = refresh_s
        self._min_refetch_s = min_refetch_s
        self._clock = clock
        self._keys: dict[str, PyJWK] = {}
        self._fetched_at: float | None = None
        self._attempted_at: float | None = None
        self._error = "not fetched yet"
        self._lock = asyncio.Lock()

    async def get(self, kid: str) -> PyJWK | None:
        """The key ``kid``, or None if the identity service does not publish it."""
        now = self._clock()
        stale = self._fetched_at is None or now - self._fetched_at >= self._refresh_s
        may_fetch = self._attempted_at is None or now - self._attempted_at >= self._min_refetch_s
        if (stale or kid not in self._keys) and may_fetch:
            await self.refresh()
        elif self._fetched_at is None and self._lock.locked():
            async with self._lock:  # the first fetch is under way: its keys, not a 503
                pass
        if self._fetched_at is None:
            raise KeysUnavailable(f"cannot fetch the identity service's keys: {self._error}")
        return self._keys.get(kid)

    async def refresh(self) -> None:
        attempted_at = self._attempted_at
        async with self._lock:
            if self._attempted_at != attempted_at:
                return  # another caller fetched while this one waited
            self._attempted_at = self._clock()
            try:
                self._keys = parse_jwks(await self._fetch())
            except (httpx.HTTPError, ValueError, OSError) as exc:
                self._error = str(exc) or type(exc).__name__
                log.warning("auth.jwks_fetch_failed", error=self._error, cached=len(self._keys))
                return
            self._fetched_at = self._clock()
