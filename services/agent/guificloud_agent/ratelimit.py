"""Pacing a download to a byte rate: boxes sit on weak Wi-Fi links shared with their users."""

from __future__ import annotations

import asyncio
import time

DEFAULT_CHUNK = 64 * 1024


class RateLimiter:
    def __init__(self, rate_bps: int | None) -> None:
        self.rate_bps = rate_bps
        self._started: float | None = None
        self._sent = 0

    @property
    def chunk_size(self) -> int:
        """Small enough that a slow download is paced (and stoppable) ten times a second."""
        if self.rate_bps is None:
            return DEFAULT_CHUNK
        return max(1024, min(DEFAULT_CHUNK, self.rate_bps // 10))

    async def consume(self, nbytes: int) -> None:
        if self.rate_bps is None:
            return
        now = time.monotonic()
        if self._started is None:
            self._started = now
        self._sent += nbytes
        ahead = self._sent / self.rate_bps - (now - self._started)
        if ahead > 0:
            await asyncio.sleep(ahead)
