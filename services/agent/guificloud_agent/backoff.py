"""Waiting between retries: exponential with jitter, capped, and cut short by an event."""

from __future__ import annotations

import asyncio
import random


class Backoff:
    def __init__(self, initial_s: float = 0.2, maximum_s: float = 10.0) -> None:
        self.initial_s = initial_s
        self.maximum_s = maximum_s
        self._next = initial_s

    def next(self) -> float:
        """The delay to wait now; the one after is twice as long, up to the cap."""
        delay = self._next * random.uniform(0.8, 1.2)
        self._next = min(self._next * 2, self.maximum_s)
        return min(delay, self.maximum_s)

    def reset(self) -> None:
        self._next = self.initial_s


async def wait_event(event: asyncio.Event, timeout_s: float) -> bool:
    """Wait for ``event`` at most ``timeout_s``; True if it was set."""
    try:
        await asyncio.wait_for(event.wait(), timeout=timeout_s)
    except TimeoutError:
        return False
    return True
