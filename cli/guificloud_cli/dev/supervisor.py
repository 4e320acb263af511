"""Supervising child processes: merged logs, restart with back-off, clean stop.

A process that exits while the system runs is reaped and restarted (and says so), waiting
1 s, 2 s, 4 s … up to 30 s between attempts; the wait starts over once it has run a minute.
Every child gets ``PR_SET_PDEATHSIG`` (see :mod:`guificloud.devservers.children`), so none
outlives the supervisor, even a SIGKILLed one, and a pid file under ``run_dir``, so that the
next run can stop what a crash left behind. Children stop in layers: the services first,
then what they need (layer 0: NATS and PostgreSQL).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from guificloud.devservers.children import die_with_parent, output_to
from guificloud_cli.dev import pidfiles
from guificloud_cli.dev.logs import LogView

HEALTHY_AFTER_S = 60.0
MAX_BACKOFF_S = 30.0


@dataclass
class Managed:
    name: str
    argv: Sequence[str]
    env: Mapping[str, str] | None = None
    restart: bool = True
    layer: int = 1
    """Children stop from the highest layer down; 0 is what the others need."""
    stop_signal: signal.Signals = signal.SIGTERM
    prepare: Callable[[], None] | None = None
    """Run (in a worker thread) before every start, e.g. to clear a dead server's locks."""
    spawn_kwargs: Mapping[str, Any] = field(default_factory=dict)
    log_file: Path | None = None
    """Where its output goes instead of the merged view."""
    process: asyncio.subprocess.Process | None = None
    restarts: int = 0
    started_at: float = 0.0
    watcher: asyncio.Task[None] | None = None
    pumps: list[asyncio.Task[None]] = field(default_factory=list)


class Supervisor:
    def __init__(self, view: LogView, run_dir: Path) -> None:
        self.view = view
        self.run_dir = run_dir
        self.children: dict[str, Managed] = {}
        self.stopping = False

    async def start(self, child: Managed) -> None:
        self.children[child.name] = child
        await self._spawn(child)
        child.watcher = asyncio.create_task(self._watch(child))

    def _pidfile(self, child: Managed) -> Path:
        return self.run_dir / f"{child.name}.pid"

    async def _spawn(self, child: Managed) -> None:
        if child.prepare is not None:
            await asyncio.to_thread(child.prepare)
        with contextlib.ExitStack() as stack:
            out = (
                stack.enter_context(output_to(child.log_file))
                if child.log_file
                else asyncio.subprocess.PIPE
            )
            # forked from the event loop's thread, which lives as long as we do
            child.process = await asyncio.create_subprocess_exec(
                *child.argv,
                env=None if child.env is None else dict(child.env),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches us only; we stop the children
                **{"preexec_fn": die_with_parent(child.stop_signal), **child.spawn_kwargs},
            )
        child.started_at = time.monotonic()
        pidfiles.record(self._pidfile(child), child.process.pid, child.stop_signal)
        if child.process.stdout is not None:
            child.pumps = [task for task in child.pumps if not task.done()]
            child.pumps.append(asyncio.create_task(self._pump(child, child.process)))

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
            code = await child.process.wait() if child.process is not None else None
            self._pidfile(child).unlink(missing_ok=True)
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
            backoff = min(backoff * 2, MAX_BACKOFF_S)
            try:
                await self._spawn(child)
            except (OSError, subprocess.SubprocessError) as exc:  # tried again after a wait
                child.process = None
                self.view.say(f"{child.name} could not start: {exc}", style="bold red")
                continue
            assert child.process is not None
            self.view.say(f"{child.name} restarted (pid {child.process.pid})", style="yellow")

    async def stop_all(self, timeout_s: float = 15.0) -> None:
        """Stop every child, layer by layer from the top; kill what does not stop in time."""
        self.stopping = True
        watchers = [c.watcher for c in self.children.values() if c.watcher is not None]
        for task in watchers:
            task.cancel()
        await asyncio.gather(*watchers, return_exceptions=True)
        for layer in sorted({c.layer for c in self.children.values()}, reverse=True):
            await asyncio.gather(
                *(self._stop(c, timeout_s) for c in self.children.values() if c.layer == layer)
            )
        for child in self.children.values():
            for task in child.pumps:
                task.cancel()
            await asyncio.gather(*child.pumps, return_exceptions=True)

    async def _stop(self, child: Managed, timeout_s: float) -> None:
        if child.process is None:
            return
        if child.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                child.process.send_signal(child.stop_signal)
        try:
            await asyncio.wait_for(child.process.wait(), timeout_s)
        except TimeoutError:
            self.view.say(f"{child.name} did not stop in time; killing it", style="yellow")
            with contextlib.suppress(ProcessLookupError):
                child.process.kill()
            await child.process.wait()
        self._pidfile(child).unlink(missing_ok=True)
