"""Pid files under the data folder: what a run of ``guificloud dev`` has running.

A pid alone may name another process after a crash or a reboot, so each file also holds the
process's start time and the signal that stops it cleanly; a later run stops only a process
that is still that very one.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import psutil


@dataclass(frozen=True)
class Running:
    process: psutil.Process
    stop_signal: signal.Signals


def record(path: Path, pid: int, stop_signal: signal.Signals) -> None:
    started = psutil.Process(pid).create_time()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{pid} {started!r} {int(stop_signal)}\n")


def running(path: Path) -> Running | None:
    """The live process ``path`` names; None (and the file removed) if it is gone."""
    try:
        pid, started, sig = path.read_text().split()
        process = psutil.Process(int(pid))
        if abs(process.create_time() - float(started)) < 0.01 and alive(process):
            return Running(process, signal.Signals(int(sig)))
    except (OSError, ValueError, psutil.Error):
        pass
    path.unlink(missing_ok=True)
    return None


def alive(process: psutil.Process) -> bool:
    """Running and not a zombie (a zombie that is not our child is not ours to reap)."""
    try:
        return bool(process.is_running() and process.status() != psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return False


def stop(found: Iterable[Running], timeout_s: float = 20.0) -> None:
    """Ask each to stop, then kill what is left after ``timeout_s``."""
    found = list(found)
    for each in found:
        try:
            each.process.send_signal(each.stop_signal)
        except psutil.Error:
            pass
    deadline = time.monotonic() + timeout_s
    while any(alive(each.process) for each in found) and time.monotonic() < deadline:
        time.sleep(0.1)
    for each in found:
        if alive(each.process):
            try:
                each.process.kill()
            except psutil.Error:
                pass
