"""Refresh and API tokens: ``gcapi_<id>_<secret>`` (or ``gcref_`` for a refresh token).

The id (16 hex digits) finds the row; the secret (32 random bytes) is stored only as its
sha256 and compared in constant time. The whole token is shown once, when it is made.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Literal

TokenKind = Literal["refresh", "api"]
PREFIXES: dict[TokenKind, str] = {"refresh": "gcref", "api": "gcapi"}
KINDS: dict[str, TokenKind] = {prefix: kind for kind, prefix in PREFIXES.items()}


@dataclass(frozen=True)
class OpaqueToken:
    kind: TokenKind
    id: str
    secret: str

    def __str__(self) -> str:
        return f"{PREFIXES[self.kind]}_{self.id}_{self.secret}"

    @property
    def secret_hash(self) -> str:
        return hash_secret(self.secret)


def new_token(kind: TokenKind) -> OpaqueToken:
    return OpaqueToken(kind, secrets.token_hex(8), secrets.token_urlsafe(32))


def parse_token(text: str) -> OpaqueToken | None:
    """The parts of a token, or None if ``text`` is not shaped like one."""
    prefix, _, rest = text.partition("_")
    token_id, _, secret = rest.partition("_")
    kind = KINDS.get(prefix)
    if kind is None or len(token_id) != 16 or len(secret) < 32:
        return None
    return OpaqueToken(kind, token_id, secret)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(stored_hash: str, token: OpaqueToken) -> bool:
    return hmac.compare_digest(stored_hash.encode(), token.secret_hash.encode())
