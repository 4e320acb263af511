"""Whether the database answers, and the start and end of an outage logged once each.

Whoever meets a transient failure (a consumer, the outbox relay, a request, ``/readyz``)
calls :meth:`DatabaseWatch.suspect`. The watch then asks the database itself
(``SELECT 1``): if that fails it logs ``database.unavailable`` once, asks again every
second, and logs ``database.available`` with the outage's duration when it answers. A
deadlock, or a failure of something else than the database, ends with one good probe and
no line. However many requests fail in an outage, it is two lines.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import time

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from guificloud.failures import describe
from guificloud.logging import get_logger

log = get_logger(__name__)


class DatabaseWatch:
    def __init__(
        self, engine: AsyncEngine, *, probe_interval_s: float = 1.0, probe_timeout_s: float = 3.0
    ) -> None:
        self._engine = engine
        self._interval_s = probe_interval_s
        self._timeout_s = probe_timeout_s
        self._down_since: float | None = None
        self._probe: asyncio.Task[None] | None = None
        self._context = contextvars.copy_context()  # the service's, not a request's

    @property
    def available(self) -> bool:
        """False from the first failed probe until one succeeds."""
        return self._down_since is None

    async def check(self) -> str | None:
        """None if the database answers ``SELECT 1`` in time, else why not."""
        try:
            async with asyncio.timeout(self._timeout_s):
                async with self._engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))
        except Exception as exc:  # noqa: BLE001 - every failure is an answer here
            return describe(exc)
        return None

    def suspect(self, _exc: BaseException | None = None) -> None:
        """A failure that may mean the database is away: probe it, unless a probe runs."""
        if self._probe is None or self._probe.done():
            self._probe = asyncio.get_running_loop().create_task(
                self._watch(time.monotonic()), name="database-watch", context=self._context.copy()
            )

    async def _watch(self, since: float) -> None:
        while (error := await self.check()) is not None:
            if self._down_since is None:
                self._down_since = since
                log.warning("database.unavailable", error=error)
            await asyncio.sleep(self._interval_s)
        if self._down_since is not None:
            duration = time.monotonic() - self._down_since
            self._down_since = None
            log.info("database.available", duration_s=round(duration, 1))

    async def close(self) -> None:
        if self._probe is not None:
            self._probe.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._probe
