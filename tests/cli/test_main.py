"""The ``guificloud`` command line as a whole: what it mounts, and what it imports."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import guificloud_cli

pytestmark = pytest.mark.unit

GUIFICLOUD = [sys.executable, "-c", "from guificloud_cli.main import app; app()"]
SERVICES = ("registry", "provisioner", "monitor", "imagestore", "agent")


def imported(path: Path) -> set[str]:
    """Every module a file imports, at its top or inside a function."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def test_the_command_line_imports_no_service_package() -> None:
    services = {f"guificloud_{name}" for name in SERVICES}
    found = {
        f"{path.name}: {name}"
        for path in Path(guificloud_cli.__file__).parent.rglob("*.py")
        for name in imported(path)
        if name.split(".")[0] in services
    }
    assert not found, "the CLI talks to services over HTTP or runs them as processes"


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
