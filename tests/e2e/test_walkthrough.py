"""The README's walkthrough ("Onboarding a box, by hand"), its lines run as written by bash
against ``guificloud dev``: the first operator logs in, founds a group allowed nodes and
slices and gives a member roles; the member logs in, registers a node of the group and its
cloud box, runs the box's agent and starts a slice on it. Only dev's ports differ: the
README's default URLs are replaced by the free ports dev runs on."""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from guificloud.settings import DEFAULT_PORTS
from tests.e2e.dev_helpers import Dev, kill_all
from tests.e2e.slices_helpers import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

README = Path(__file__).resolve().parents[2] / "README.md"
SECTION = "## Onboarding a box, by hand"


def walkthrough() -> str:
    """The shell block of the README's walkthrough."""
    section = README.read_text().split(SECTION, 1)[1]
    return section.split("```sh\n", 1)[1].split("```", 1)[0]


@pytest.fixture
def dev(tmp_path: Path) -> Iterator[Dev]:
    if not (shutil.which("jq") and shutil.which("curl")):
        pytest.skip("the walkthrough needs jq and curl")
    running = Dev(tmp_path / ".guificloud").start(seed=True)
    seen: list[psutil.Process] = []
    try:
        running.wait_ready(90)
        wait_for(lambda: "guifi-cloud is up" in running.tail(400), 60, running.tail)
        seen = running.descendants()
        yield running
    finally:
        if running.process is not None and running.process.poll() is None:
            seen += running.descendants()
        running.stop()
        kill_all(seen)


def test_the_readme_walkthrough_runs_with_logins(dev: Dev, tmp_path: Path) -> None:
    script = walkthrough()
    for name, port in DEFAULT_PORTS.items():
        script = script.replace(f"http://127.0.0.1:{port}", dev.url(name))
    login_file = tmp_path / "config" / "credentials.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUIFICLOUD_")}
    env.update(  # no admin token: what the walkthrough does, it does with its logins
        {f"GUIFICLOUD_{name.upper()}_URL": dev.url(name) for name in DEFAULT_PORTS}
    )
    env["GUIFICLOUD_CREDENTIALS"] = str(login_file)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["COLUMNS"] = "200"
    shell = subprocess.Popen(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # the agent it leaves running is in its process group
    )
    try:
        output, _ = shell.communicate(timeout=240)
    finally:
        try:
            os.killpg(shell.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        shell.wait()
    agent_log = (tmp_path / "box1.log").read_text() if (tmp_path / "box1.log").exists() else ""
    assert shell.returncode == 0, f"{output}\n--- agent:\n{agent_log[-3000:]}\n{dev.tail(60)}"
    assert "settled: 1 slivers start" in output, output

    stored = json.loads(login_file.read_text())
    assert stored["login"] == "anna" and stat.S_IMODE(login_file.stat().st_mode) == 0o600
    operator = tmp_path / ".guificloud" / "identity" / "operator.json"
    assert stat.S_IMODE(operator.stat().st_mode) == 0o600
    headers = {"Authorization": f"Bearer {stored['access_token']}"}
    me = httpx.get(f"{dev.url('identity')}/api/v1/auth/whoami", headers=headers).json()
    assert [sorted(roles) for roles in me["groups"].values()] == [["node_admin", "slice_admin"]]
    box = json.loads((tmp_path / ".guificloud" / "box.json").read_text())
    found = httpx.get(f"{dev.url('provisioner')}/api/v1/boxes/{box['box_id']}").json()
    assert found["state"] == "ready"
