"""A later run stops what a pid file names only while it is still that very process."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from guificloud_cli.dev import pidfiles

pytestmark = pytest.mark.unit


def test_a_pid_file_names_the_process_it_recorded(tmp_path: Path) -> None:
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        path = tmp_path / "sleeper.pid"
        pidfiles.record(path, sleeper.pid, signal.SIGTERM)
        found = pidfiles.running(path)
        assert found is not None and found.process.pid == sleeper.pid
        pidfiles.stop([found], timeout_s=10)
        assert sleeper.wait(10) == -signal.SIGTERM
        assert pidfiles.running(path) is None and not path.exists()
    finally:
        sleeper.kill()
        sleeper.wait()


def test_a_reused_pid_is_not_taken_for_the_recorded_process(tmp_path: Path) -> None:
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        path = tmp_path / "sleeper.pid"
        pidfiles.record(path, sleeper.pid, signal.SIGTERM)
        pid, started, sig = path.read_text().split()
        path.write_text(f"{pid} {float(started) - 3600} {sig}\n")  # an older process's
        assert pidfiles.running(path) is None
        assert sleeper.poll() is None
    finally:
        sleeper.kill()
        sleeper.wait()
