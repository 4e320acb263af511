"""Passwords hashed with Argon2id (argon2-cffi's defaults, RFC 9106's low-memory profile).

Hashing takes tens of milliseconds on purpose, so it runs in a thread, off the event loop.
A login for an unknown account checks against a dummy hash all the same: the answer takes
as long, and does not tell which logins exist.
"""

from __future__ import annotations

import asyncio
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


@cache
def _hasher() -> PasswordHasher:
    return PasswordHasher()


@cache
def _dummy_hash() -> str:
    return _hasher().hash("not a password of anyone")


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher().hash, password)


def _verify(stored: str | None, password: str) -> bool:
    try:
        return _hasher().verify(stored or _dummy_hash(), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored`` (None, for an unknown account: never)."""
    return await asyncio.to_thread(_verify, stored, password)


def needs_rehash(stored: str) -> bool:
    """After a successful login: a hash made with weaker parameters than today's."""
    return _hasher().check_needs_rehash(stored)
