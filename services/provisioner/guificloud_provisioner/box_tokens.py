"""A box's HTTP token (the agent's credential on ``GET /boxes/{id}/desired``).

Only its sha256 is stored: the token is 32 random bytes, so there is no dictionary to try
and a slow hash would buy nothing. ``GET /boxes/{id}/config`` issues a new one each time,
and the previous one stops working (rotation); an operator may revoke it, after which the
box has none until its configuration is fetched again.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from guificloud_provisioner.models import Box


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(box: Box) -> str:
    """A new token for ``box``, replacing any previous one; the caller commits."""
    token = secrets.token_urlsafe(32)
    box.token_hash = _hash(token)
    return token


def revoke(box: Box) -> None:
    box.token_hash = None


def matches(box: Box, presented: str) -> bool:
    """Whether ``presented`` is the box's current token (constant time)."""
    stored = box.token_hash or ""
    return bool(stored) and hmac.compare_digest(_hash(presented), stored)
