"""In-progress acknowledgements for the messages a consumer holds.

A short ack wait lets JetStream hand the messages of an instance that died to another within
seconds; while an instance is alive and working, it says so for every message it still holds
(handled, or waiting its turn in the batch), so none is handed out twice meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
from types import TracebackType

from nats.aio.msg import Msg


class InProgress:
    """``async with InProgress(msgs, every_s):`` sends ``+WPI`` for each message until it is
    :meth:`settled` or the block ends."""

    def __init__(self, msgs: list[Msg], every_s: float) -> None:
        self._held = {id(m): m for m in msgs}
        self._every_s = every_s
        self._task: asyncio.Task[None] | None = None

    def settled(self, msg: Msg) -> None:
        """Acked, nak'd or terminated: no more in-progress for it."""
        self._held.pop(id(msg), None)

    async def _beat(self) -> None:
        while self._held:
            await asyncio.sleep(self._every_s)
            for key, msg in list(self._held.items()):
                if key not in self._held:  # settled meanwhile: a late +WPI would delay a nak
                    continue
                with contextlib.suppress(Exception):  # NATS away: redelivery covers it
                    await msg.in_progress()

    async def __aenter__(self) -> InProgress:
        self._task = asyncio.create_task(self._beat(), name="consumer-in-progress")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
