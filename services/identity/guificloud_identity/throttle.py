"""Slowing down password guessing, per account and per client address.

Failures are counted in the database (every instance sees the same counts) over a window
(``login_window_s``). Past the allowed failures, the next attempt waits: the delay starts at
``login_delay_base_s`` and doubles with each further failure, but never exceeds the window,
and the count starts over once the window has passed; so the real owner is slowed, never
locked out for good. A blocked attempt is refused (429 with ``Retry-After``) before its
password is even checked, so guesses made during a block teach nothing. A successful login
clears its account's count (not its address's: one shared address may serve many people,
and a guesser who also holds a valid account must not reset it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import case, delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from guificloud_identity.errors import TooManyRequests
from guificloud_identity.models import LoginFailures
from guificloud_identity.settings import IdentitySettings


@dataclass(frozen=True)
class Counter:
    key: str
    limit: int


def counters(settings: IdentitySettings, login: str, address: str | None) -> list[Counter]:
    found = [Counter(f"login:{login.lower()}", settings.login_failures_per_account)]
    if address:
        found.append(Counter(f"address:{address}", settings.login_failures_per_address))
    return found


async def ensure_allowed(session: AsyncSession, keys: list[Counter]) -> None:
    now = datetime.now(UTC)
    blocked = await session.scalars(
        select(LoginFailures.blocked_until).where(
            LoginFailures.key.in_([c.key for c in keys]), LoginFailures.blocked_until > now
        )
    )
    until = max((b for b in blocked if b is not None), default=None)
    if until is not None:
        wait = max(1, math.ceil((until - now).total_seconds()))
        raise TooManyRequests(f"too many failed logins: try again in {wait} s", retry_after_s=wait)


async def record_failure(
    session: AsyncSession, keys: list[Counter], settings: IdentitySettings
) -> None:
    now = datetime.now(UTC)
    window = timedelta(seconds=settings.login_window_s)
    for counter in keys:
        expired = LoginFailures.window_start <= now - window
        stmt = (
            insert(LoginFailures)
            .values(key=counter.key, failures=1, window_start=now)
            .on_conflict_do_update(
                index_elements=[LoginFailures.key],
                set_={
                    "failures": case((expired, 1), else_=LoginFailures.failures + 1),
                    "window_start": case((expired, now), else_=LoginFailures.window_start),
                },
            )
            .returning(LoginFailures.failures)
        )
        failures = (await session.execute(stmt)).scalar_one()
        if failures >= counter.limit:
            delay = min(
                settings.login_delay_base_s * 2 ** min(failures - counter.limit, 30),
                settings.login_window_s,
            )
            await session.execute(
                update(LoginFailures)
                .where(LoginFailures.key == counter.key)
                .values(blocked_until=now + timedelta(seconds=delay))
            )


async def clear(session: AsyncSession, login: str) -> None:
    await session.execute(
        delete(LoginFailures).where(LoginFailures.key == f"login:{login.lower()}")
    )
