"""What an earlier run of ``guificloud dev`` on the same data folder left running.

Children die with dev (``PR_SET_PDEATHSIG``), so normally nothing is left; but a run of an
older version, or a server whose parent-death signal was lost, may still hold the ports and
the data. The pid files under ``run/`` name what a run had started, ``dev.pid`` names the
run itself, and PostgreSQL's ``postmaster.pid`` names a server on our cluster.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

from guificloud.devservers import postgres
from guificloud.devservers.postgres import PostgresServer
from guificloud_cli.dev import pidfiles

DEV_PIDFILE = "dev.pid"


def claim(run_dir: Path) -> None:
    """Mark the data folder as ours, refusing it while another dev runs on it."""
    other = pidfiles.running(run_dir / DEV_PIDFILE)
    if other is not None and other.process.pid != os.getpid():
        raise SystemExit(
            f"another guificloud dev (pid {other.process.pid}) runs on this data folder"
        )
    pidfiles.record(run_dir / DEV_PIDFILE, os.getpid(), signal.SIGINT)


def release(run_dir: Path) -> None:
    (run_dir / DEV_PIDFILE).unlink(missing_ok=True)


def stop_leftovers(run_dir: Path, pg: PostgresServer) -> list[str]:
    """Stop what an earlier run left running; says what it stopped."""
    found: dict[int, tuple[str, pidfiles.Running]] = {}
    paths = [p for p in sorted(run_dir.glob("*.pid")) if p.name != DEV_PIDFILE]
    for path in paths:
        if (each := pidfiles.running(path)) is not None:
            found[each.process.pid] = (path.stem, each)
    server = pg.leftover()
    if server is not None and server.pid not in found:
        found[server.pid] = ("postgres", pidfiles.Running(server, postgres.STOP_SIGNAL))
    pidfiles.stop(each for _, each in found.values())
    for path in paths:
        path.unlink(missing_ok=True)
    return [f"{name} (pid {pid})" for pid, (name, _) in found.items()]
