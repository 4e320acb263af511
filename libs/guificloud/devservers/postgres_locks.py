"""PostgreSQL's lock files, and when one left by a dead server may be removed.

``postmaster.pid`` in the data folder and ``.s.PGSQL.<port>.lock`` beside the unix socket
name the server's pid on their first line and its data folder on the second. After a crash
they stay behind, and the pid they name may since belong to another process (in a container
the same low pids come back after every restart); PostgreSQL then refuses to start, as it
cannot tell. We can: the owner is alive only if that pid is a running ``postgres`` process
working in that data folder.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import psutil


def owner(lockfile: Path) -> psutil.Process | None:
    """The live postgres process that holds ``lockfile``, if any."""
    try:
        lines = lockfile.read_text().splitlines()
        process = psutil.Process(int(lines[0]))
        if process.name() != "postgres" or process.status() == psutil.STATUS_ZOMBIE:
            return None
        if len(lines) > 1 and lines[1]:
            with contextlib.suppress(psutil.AccessDenied):
                if Path(process.cwd()) != Path(lines[1]).resolve():
                    return None
        return process
    except (OSError, ValueError, IndexError, psutil.Error):
        return None


def clear_stale(*lockfiles: Path) -> None:
    """Remove each lock file that no live server holds."""
    for lockfile in lockfiles:
        if lockfile.exists() and owner(lockfile) is None:
            lockfile.unlink(missing_ok=True)
