"""Supervising child processes: merged logs, restart with back-off, clean stop.

A process that exits while the system runs is restarted (and says so), waiting 1 s, 2 s,
4 s … up to 30 s between attempts; the wait starts over once it has run a minute.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from guificloud_cli.dev.logs import LogView

HEALTHY_AFTER_S = 60.0
MAX_BACKOFF_S = 30.0


@dataclass
class Managed:
    name: str
    argv: Sequence[str]
    env: Mapping[str, str]
    restart: bool = True
    process: asyncio.subprocess.Process | None = None
    restarts: int = 0
    started_at: float = 0.0
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


class Supervisor:
    def __init__(self, view: LogView) -> None:
        self.view = view
        self.children: dict[str, Managed] = {}
        self.stopping = False

    async def start(self, child: Managed) -> None:
        self.children[child.name] = child
        await self._spawn(child)
        child.tasks.append(asyncio.create_task(self._watch(child)))

    async def _spawn(self, child: Managed) -> None:
        child.process = await asyncio.create_subprocess_exec(
            *child.argv,
            env=dict(child.env),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
        child.started_at = time.monotonic()
        child.tasks.append(asyncio.create_task(self._pump(child, child.process)))

    async def _pump(self, child: Managed, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        while True:
            try:
                raw = await process.stdout.readline()
            except ValueError:  # a line longer than the stream limit
                continue
            if not raw:
                return
            self.view.line(child.name, raw.decode(errors="replace").rstrip())

    async def _watch(self, child: Managed) -> None:
        backoff = 1.0
        while True:
            assert child.process is not None
            code = await child.process.wait()
            if self.stopping:
                return
            if not child.restart:
                self.view.say(
                    f"{child.name} exited with code {code}",
                    style="yellow" if code == 0 else "bold red",
                )
                return
            if time.monotonic() - child.started_at > HEALTHY_AFTER_S:
                backoff = 1.0
            child.restarts += 1
            self.view.say(
                f"{child.name} exited with code {code}; restarting in {backoff:.0f}s "
                f"(restart #{child.restarts})",
                style="bold red",
            )
            await asyncio.sleep(backoff)
            if self.stopping:
                return
            backoff = min(backoff * 2, MAX_BACKOFF_S)
            await self._spawn(child)
            self.view.say(f"{child.name} restarted (pid {child.process.pid})", style="yellow")

    async def stop_all(self, timeout_s: float = 15.0) -> None:
        """SIGTERM every child (newest first), wait, then SIGKILL what is left."""
        self.stopping = True
        for child in reversed(list(self.children.values())):
            if child.process and child.process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        for child in self.children.values():
            if child.process is None:
                continue
            try:
                await asyncio.wait_for(child.process.wait(), max(0.1, deadline - time.monotonic()))
            except TimeoutError:
                self.view.say(f"{child.name} did not stop in time; killing it", style="yellow")
                with contextlib.suppress(ProcessLookupError):
                    child.process.kill()
                await child.process.wait()
        for child in self.children.values():
            for task in child.tasks:
                task.cancel()
            await asyncio.gather(*child.tasks, return_exceptions=True)
