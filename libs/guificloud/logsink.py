"""Where a process's log lines go: standard output, until its reader goes away.

Under ``guificloud dev`` a service logs to a pipe that dev reads and merges with the others.
If that pipe breaks, a write fails with EPIPE, and a service that let the error through
would die of its own logging (or fail the request that logged). Instead the sink moves
standard output and standard error onto a file and carries on there, so that nothing
written afterwards, by the logger or by anything else (a traceback, a print), is lost or
fatal. Each line is one ``write`` on file descriptor 1, so lines of several threads never mix.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path


class LogSink:
    """A text stream for ``structlog`` and ``logging``; ``fallback`` is the file to move to
    (without one, what follows a break is dropped)."""

    def __init__(self, fallback: Path | None) -> None:
        self.fallback = fallback
        self.moved = False
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        data = text.encode(errors="replace")
        with self._lock:
            try:
                _write_all(1, data)
            except (BrokenPipeError, ConnectionResetError):
                self._move()
                _write_all(1, data)
        return len(text)

    def flush(self) -> None:
        """Every write is already on its file descriptor."""

    def isatty(self) -> bool:
        return os.isatty(1)

    def _move(self) -> None:
        target = os.devnull
        if self.fallback is not None:
            try:
                self.fallback.parent.mkdir(parents=True, exist_ok=True)
                target = str(self.fallback)
            except OSError:
                pass
        fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
        self.moved = True


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
