"""A slice of real LXC containers: two boxes whose agents run the ``lxc`` driver, a slice of
two slivers from the store's image, a command answered inside each, and nothing left after
the slice is deleted.

Needs a host where LXC can start containers (root, ``lxc``, ``busybox-static``); a probe
really starts one first, and where that fails the test is skipped with the probe's reason.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from guificloud_agent.drivers.lxc import LxcDriver
from guificloud_agent.drivers.subprocesses import run
from guificloud_agent.platform import container_name
from tests.agent.lxc_helpers import busybox_rootfs, clear, probe, static_busybox
from tests.e2e.slices_helpers import (
    create_slice,
    set_state,
    sliver_container,
    upload_image,
    wait_all,
    wait_for,
    wait_gone,
)
from tests.e2e.system import System

pytestmark = [pytest.mark.e2e, pytest.mark.lxc]


@pytest.fixture(scope="module")
def busybox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    reason = asyncio.run(probe(tmp_path_factory.mktemp("lxc-probe")))
    if reason is not None:
        print(f"\nLXC slice test skipped: {reason}", file=sys.stderr)
        pytest.skip(reason)
    path, _ = static_busybox()
    assert path is not None
    return path


class LxcBox:
    """A box's agent as a real process on the lxc driver, with its own lxcpath."""

    def __init__(self, system: System, box_id: str, root: Path) -> None:
        self.box_id = box_id
        self.lxc_path = root / f"lxc-{box_id[:8]}"
        self.log_path = root / f"agent-{box_id[:8]}.log"
        config = root / f"box-{box_id[:8]}.json"
        config.write_text(json.dumps(system.box_config(box_id)))
        argv = [
            sys.executable,
            "-m",
            "guificloud_agent",
            "run",
            f"--config={config}",
            f"--cache-dir={root / f'cache-{box_id[:8]}'}",
            "--driver=lxc",
            f"--lxc-path={self.lxc_path}",
            "--platform-memory=64",
            "--platform-disk=16",
            "--resync-interval=1",
            "--log-format=json",
        ]
        with self.log_path.open("ab") as out:
            self.process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
        self.driver = LxcDriver(root / f"probe-{box_id[:8]}", self.lxc_path)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        asyncio.run(clear(self.lxc_path))

    def names(self) -> list[str]:
        return asyncio.run(self.driver.names())

    def attach(self, name: str, *argv: str) -> str:
        answer: str = asyncio.run(self.driver.attach(name, list(argv))).out
        return answer

    def holds_only(self, name: str) -> bool:
        return self.names() == [name]


def _names(box: LxcBox) -> str:
    return f"containers left on {box.box_id}: {box.names()}"


@pytest.fixture
def lxc_boxes(system: System, busybox: Path, tmp_path: Path) -> Iterator[list[LxcBox]]:
    upload_image(system, busybox_rootfs(busybox), "guifi-community-distro", "1.0.0")
    ids = [system.add_cloud_box(f"lxc-box-{i}") for i in range(2)]
    boxes: list[LxcBox] = []
    try:
        for box_id in ids:
            system.wait_state(box_id, "configured")
            boxes.append(LxcBox(system, box_id, tmp_path))
        for box in boxes:
            system.wait_state(box.box_id, "ready", timeout_s=60)
            system.wait_monitor(box.box_id, "online")
        yield boxes
    finally:
        for box in boxes:
            box.stop()


def test_a_slice_of_two_slivers_runs_real_containers_and_leaves_nothing(
    system: System, busybox: Path, lxc_boxes: list[LxcBox]
) -> None:
    image = upload_image(system, busybox_rootfs(busybox, padding=4096), "lab-busybox", "1.0")
    by_id = {box.box_id: box for box in lxc_boxes}
    created = create_slice(
        system,
        "lxc-lab",
        {"boxes": list(by_id)},
        image={"name": "lab-busybox"},
        sliver_defaults={"memory_mb": 64, "disk_mb": 32, "cpu_share": 0.5},
    )
    assert created["image"]["digest"] == image["digest"]

    set_state(system, created["id"], "start")
    started = wait_all(system, created["id"], "started", 2, timeout_s=90)
    assert {v["box_id"] for v in started} == set(by_id)
    for sliver in started:
        box = by_id[sliver["box_id"]]
        name = sliver_container(sliver)
        assert name in box.names(), box.log_path.read_text()[-3000:]
        assert box.attach(name, "/bin/busybox", "echo", "hello") == "hello\n"

    response = system.http.delete(system.url("provisioner", f"/api/v1/slices/{created['id']}"))
    assert response.status_code == 202, response.text
    wait_gone(system, created["id"], timeout_s=60)
    for box in lxc_boxes:
        platform = container_name(system.box(box.box_id)["distro_digest"])
        wait_for(partial(box.holds_only, platform), 30, partial(_names, box))
        leftovers = [p.name for p in box.lxc_path.iterdir() if p.name.startswith("sliver-")]
        assert leftovers == []
    loops = asyncio.run(run(["losetup", "--list", "--noheadings"], timeout_s=10)).out
    assert "sliver-" not in loops
