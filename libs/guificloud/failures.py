"""What a failure means for whoever meets it: wait and retry, give up, or treat as a bug.

One classification for every edge. The consumer keeps a message through a
:attr:`Failure.TRANSIENT` failure for as long as it lasts and dead-letters a
:attr:`Failure.PERMANENT` one at once; the outbox relay retries; the HTTP layer answers 503
with ``Retry-After`` instead of 500. :attr:`Failure.UNKNOWN` (a bug, most likely) is retried a
few times, then dead-lettered or answered 500.

Drivers wrap each other (SQLAlchemy wraps an adapter error whose cause is asyncpg's), so the
chain of ``orig`` and ``__cause__`` is searched and the first verdict wins.
"""

from __future__ import annotations

from collections.abc import Iterator
from enum import StrEnum

import asyncpg
import httpx
import nats.errors
import nats.js.errors
from sqlalchemy import exc as sa

from guificloud.errors import PermanentFailure
from guificloud.retries import RETRY_STATUSES


class Failure(StrEnum):
    TRANSIENT = "transient"
    PERMANENT = "permanent"
    UNKNOWN = "unknown"


TRANSIENT_SQLSTATES = (
    "08",  # connection exception
    "53",  # insufficient resources (too many connections, out of memory, disk full)
    "57P01",  # admin shutdown
    "57P02",  # crash shutdown
    "57P03",  # cannot connect now (starting up, shutting down)
    "57014",  # query cancelled (statement timeout)
    "40001",  # serialization failure
    "40P01",  # deadlock detected
    "55P03",  # lock not available (lock timeout)
)
"""SQLSTATE codes (or classes, by prefix) that a later attempt may not meet."""

NOT_INFRASTRUCTURE = (
    FileNotFoundError,
    FileExistsError,
    IsADirectoryError,
    NotADirectoryError,
    PermissionError,
)
"""``OSError`` subclasses that a retry does not cure: a missing or forbidden file is ours."""

TRANSIENT_TYPES: tuple[type[BaseException], ...] = (
    OSError,  # refused, reset, unreachable, timed out (TimeoutError is an OSError)
    sa.OperationalError,
    sa.DisconnectionError,
    sa.TimeoutError,  # no connection free in the pool
    nats.errors.ConnectionClosedError,
    nats.errors.ConnectionReconnectingError,
    nats.errors.ConnectionDrainingError,
    nats.errors.NoServersError,
    nats.errors.NoRespondersError,
    nats.errors.StaleConnectionError,
    nats.errors.OutboundBufferLimitError,
    nats.js.errors.ServiceUnavailableError,
    nats.js.errors.ServerError,
    httpx.TransportError,  # another service unreachable or too slow
)


def causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc``, then what it wraps (``orig`` of SQLAlchemy errors, ``__cause__``), innermost
    last; a cycle ends the walk."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        orig = getattr(current, "orig", None)
        current = orig if isinstance(orig, BaseException) else current.__cause__


def _transient(exc: BaseException) -> bool:
    sqlstate = getattr(exc, "sqlstate", None)
    if isinstance(sqlstate, str) and sqlstate.startswith(TRANSIENT_SQLSTATES):
        return True
    if isinstance(exc, sa.DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, asyncpg.InterfaceError):  # as SQLAlchemy's own is_disconnect reads it
        return "connection is closed" in str(exc)
    if isinstance(exc, httpx.HTTPStatusError):
        return exc.response.status_code in RETRY_STATUSES
    if isinstance(exc, NOT_INFRASTRUCTURE):
        return False
    return isinstance(exc, TRANSIENT_TYPES)


def classify(exc: BaseException) -> Failure:
    """Whether ``exc`` may pass by itself (database or bus away, deadlock, timeout), can never
    succeed (:class:`PermanentFailure`), or is neither as far as we know."""
    chain = list(causes(exc))
    if any(isinstance(e, PermanentFailure) for e in chain):
        return Failure.PERMANENT
    if any(_transient(e) for e in chain):
        return Failure.TRANSIENT
    return Failure.UNKNOWN


def kind(exc: BaseException) -> str:
    """A short stable name to group log lines by: the innermost exception's type."""
    return type(list(causes(exc))[-1]).__name__


def describe(exc: BaseException) -> str:
    """``Type: message`` of the innermost exception, on one line, at most 500 characters."""
    inner = list(causes(exc))[-1]
    text = f"{type(inner).__name__}: {inner}".replace("\r", " ").replace("\n", " ")
    return text[:500]
