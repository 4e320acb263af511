"""Child processes that die with the process that started them.

``guificloud dev`` and the test fixtures start servers as children; if the parent is killed
(SIGKILL leaves it no chance to clean up) the kernel sends each child ``PR_SET_PDEATHSIG``'s
signal, so nothing is left behind holding ports and data folders. The signal is sent when
the *thread* that forked the child ends, so start such children from a thread that lives as
long as the parent (the main thread or the event loop's), never from ``asyncio.to_thread``.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

PR_SET_PDEATHSIG = 1


def die_with_parent(sig: signal.Signals = signal.SIGTERM) -> Callable[[], None] | None:
    """A ``preexec_fn`` that has the child receive ``sig`` when this process dies.

    It runs after ``user``/``group`` are applied (a change of user clears the setting), and
    signals the child at once if the parent died before the setting took effect.
    """
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)
    parent = os.getpid()

    def preexec() -> None:
        libc.prctl(PR_SET_PDEATHSIG, int(sig))
        if os.getppid() != parent:
            os.kill(os.getpid(), sig)

    return preexec


@contextlib.contextmanager
def output_to(log_file: Path | None) -> Iterator[int | IO[bytes]]:
    """A child's output: appended to ``log_file``, or discarded. Start the child inside the
    block; it keeps its own copy of the file, ours is closed."""
    if log_file is None:
        yield subprocess.DEVNULL
        return
    with log_file.open("ab") as out:
        yield out
