"""Checking an access token offline: signature against the published keys, issuer, audience
and expiry (with a small leeway for clocks that disagree), then its claims as a
:class:`Principal`. No call to another service per request: only the cached key set.

A client sends the same access token with every request until it expires, so the last
verified tokens are remembered (bounded, least recently used first out) until their expiry:
the signature of a token is checked once, not on each of its requests. The session check,
where there is one, still runs every time.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, Literal
from uuid import UUID

import jwt

from guificloud.auth.claims import ALGORITHM, AUDIENCE, ISSUER, ClaimsError, from_claims
from guificloud.auth.keys import KeySet
from guificloud.auth.principal import Principal

Reason = Literal[
    "missing", "malformed", "expired", "forged", "unknown_key", "wrong_audience", "revoked"
]
OPAQUE_PREFIXES = ("gcapi_", "gcref_")
REQUIRED = ["exp", "iat", "sub", "aud", "iss"]
CACHED = 4096


class TokenRejected(Exception):
    """An access token that is not accepted; ``reason`` says which way it failed."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


SessionCheck = Callable[[Principal], Awaitable[None]]
"""Raises :class:`TokenRejected` (``revoked``) for a principal whose session is over."""

ADMIN = Principal(id=UUID(int=0), kind="tool", login="admin-token", is_operator=True)
"""Who the deployment's admin token (``GUIFICLOUD_ADMIN_TOKEN``) speaks as: an operator.
It is the machine credential of scripts that set a deployment up (the image seed, a
simulated fleet) before any account exists; people and tools use access tokens."""


class Verifier:
    """``session_check``, when given, runs after the signature: a service that keeps a read
    model of revoked sessions (the identity service reads its own table) refuses their
    access tokens at once instead of at their expiry.

    ``admin_token``, when given, is accepted as :data:`ADMIN` (compared in constant time)."""

    def __init__(
        self,
        keys: KeySet,
        *,
        audience: str = AUDIENCE,
        leeway_s: float = 30.0,
        session_check: SessionCheck | None = None,
        admin_token: str | None = None,
    ) -> None:
        self.keys = keys
        self.audience = audience
        self.leeway_s = leeway_s
        self.session_check = session_check
        self._admin = admin_token.encode() if admin_token else None
        self._verified: OrderedDict[str, Principal] = OrderedDict()

    async def verify(self, token: str) -> Principal:
        if self._admin is not None and hmac.compare_digest(token.encode(), self._admin):
            return ADMIN
        principal = self._remembered(token)
        if principal is None:
            principal = await self._verify_signed(token)
            self._verified[token] = principal
            if len(self._verified) > CACHED:
                self._verified.popitem(last=False)
        if self.session_check is not None:
            await self.session_check(principal)
        return principal

    def _remembered(self, token: str) -> Principal | None:
        principal = self._verified.get(token)
        if principal is None:
            return None
        expires = principal.expires_at
        if expires is None or expires.timestamp() + self.leeway_s <= time.time():
            del self._verified[token]
            raise TokenRejected("expired", "access token expired: log in again")
        self._verified.move_to_end(token)
        return principal

    async def _verify_signed(self, token: str) -> Principal:
        if token.startswith(OPAQUE_PREFIXES):
            raise TokenRejected(
                "malformed",
                "an API or refresh token is not an access token: exchange it at "
                "POST /api/v1/auth/token",
            )
        kid = _key_id(token)
        key = await self.keys.get(kid) if isinstance(kid, str) else None
        if key is None:
            raise TokenRejected("unknown_key", f"access token signed by an unknown key {kid!r}")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=ISSUER,
                leeway=self.leeway_s,
                options={"require": REQUIRED},
            )
            return from_claims(claims)
        except jwt.ExpiredSignatureError as exc:
            raise TokenRejected("expired", "access token expired: log in again") from exc
        except jwt.InvalidSignatureError as exc:
            raise TokenRejected(
                "forged", "access token signature does not verify (forged or altered)"
            ) from exc
        except jwt.InvalidAudienceError as exc:
            raise TokenRejected(
                "wrong_audience", f"access token is for another audience than {self.audience}"
            ) from exc
        except (jwt.InvalidTokenError, ClaimsError) as exc:
            raise TokenRejected("malformed", f"malformed access token: {exc}") from exc


def _key_id(token: str) -> Any:
    """The ``kid`` of a token's header (only to pick the key: the signature check that
    follows covers the header too)."""
    header = token.split(".", 1)[0]
    try:
        decoded = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
    except (ValueError, binascii.Error) as exc:
        raise TokenRejected("malformed", "malformed access token: unreadable header") from exc
    return decoded.get("kid") if isinstance(decoded, dict) else None
