"""The ``guificloud`` command line as a whole: what it mounts, and what it imports."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.unit

GUIFICLOUD = [sys.executable, "-c", "from guificloud_cli.main import app; app()"]


def test_agent_commands_are_the_agents_own() -> None:
    shown = subprocess.run(
        [*GUIFICLOUD, "agent", "sim", "--help"], capture_output=True, text=True, timeout=60
    )
    assert shown.returncode == 0, shown.stderr
    assert "--boxes" in shown.stdout and "--registry-url" in shown.stdout
    wrong = subprocess.run(
        [*GUIFICLOUD, "agent", "fly"], capture_output=True, text=True, timeout=60
    )
    assert wrong.returncode == 2 and "No such command 'fly'" in wrong.stderr
