"""What the slice tests ask of the running system: a fleet of simulated boxes as one real
process, slices over the provisioner's API, and waiting until slivers reach a state."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import nats

from guificloud.events.envelope import Envelope
from guificloud.streams import IMAGESTORE
from tests.e2e.system import ADMIN_TOKEN, System, stored

Sliver = dict[str, Any]
STATE_CHANGED = "provisioner.sliver.state_changed"


class FleetProcess:
    """``python -m guificloud_agent sim``: N simulated boxes enrolled through the registry
    (a node and a cloud device each), their agents in one process. Killed and started again,
    it runs the same boxes (their configurations are kept in ``fleet.json``)."""

    def __init__(self, system: System, boxes: int, root: Path, resync_s: float = 1.0) -> None:
        self.system = system
        self.boxes = boxes
        self.cache_dir = root / "fleet"
        self.log_path = root / "fleet.log"
        self.resync_s = resync_s
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> FleetProcess:
        argv = [
            sys.executable,
            "-m",
            "guificloud_agent",
            "sim",
            f"--boxes={self.boxes}",
            f"--registry-url={self.system.urls['registry']}",
            f"--provisioner-url={self.system.urls['provisioner']}",
            f"--cache-dir={self.cache_dir}",
            f"--resync-interval={self.resync_s}",
            "--log-format=json",
        ]
        out = open(self.log_path, "ab")  # noqa: SIM115
        env = {**os.environ, "GUIFICLOUD_ADMIN_TOKEN": ADMIN_TOKEN}  # never in argv
        self.process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env)
        return self

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def configs(self, timeout_s: float = 60.0) -> list[dict[str, Any]]:
        """The boxes' configurations once all are enrolled and configured."""
        path = self.cache_dir / "fleet.json"
        wait_for(path.exists, timeout_s, lambda: f"fleet never enrolled:\n{self.tail()}")
        configs: list[dict[str, Any]] = json.loads(path.read_text())
        return configs

    def box_ids(self) -> list[str]:
        return [str(c["box_id"]) for c in self.configs()]

    def tail(self, lines: int = 30) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


@contextmanager
def running_fleet(system: System, boxes: int, root: Path) -> Iterator[FleetProcess]:
    """A fleet whose boxes are all ready (the distro deployed) and online."""
    fleet = FleetProcess(system, boxes, root).start()
    try:
        for box_id in fleet.box_ids():
            system.wait_state(box_id, "ready", timeout_s=60)
            system.wait_monitor(box_id, "online", timeout_s=30)
        yield fleet
    finally:
        fleet.stop()


def wait_for(
    predicate: Callable[[], bool], timeout_s: float, why: Callable[[], str] = lambda: ""
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"not in {timeout_s}s: {why()}")


# --- slices over the API ------------------------------------------------------------------
def create_slice(system: System, name: str, placement: dict[str, Any], **extra: Any) -> Any:
    body = {
        "name": name,
        "group_id": system.group_id,
        "image": {"name": "guifi-community-distro"},
        "sliver_defaults": {"memory_mb": 256, "disk_mb": 100, "cpu_share": 0.5},
        "placement": placement,
        **extra,
    }
    response = system.http.post(system.url("provisioner", "/api/v1/slices"), json=body)
    assert response.status_code == 201, response.text
    return response.json()


def set_state(system: System, slice_id: str, state: str) -> Any:
    response = system.http.patch(
        system.url("provisioner", f"/api/v1/slices/{slice_id}"), json={"set_state": state}
    )
    assert response.status_code == 200, response.text
    return response.json()


def slivers(system: System, slice_id: str) -> list[Sliver]:
    response = system.http.get(system.url("provisioner", f"/api/v1/slices/{slice_id}/slivers"))
    assert response.status_code == 200, response.text
    rows: list[Sliver] = response.json()
    return rows


def wait_slivers(
    system: System,
    slice_id: str,
    predicate: Callable[[Sequence[Sliver]], bool],
    what: str,
    timeout_s: float = 30.0,
) -> list[Sliver]:
    deadline = time.monotonic() + timeout_s
    last: list[Sliver] = []
    while time.monotonic() < deadline:
        response = system.http.get(system.url("provisioner", f"/api/v1/slices/{slice_id}/slivers"))
        if response.status_code == 200:
            last = response.json()
            if predicate(last):
                return last
        time.sleep(0.1)
    states = [(v.get("box_id"), v.get("state"), v.get("reason")) for v in last]
    raise AssertionError(
        f"slice {slice_id} never {what}: slivers {states}\n" + system.services["provisioner"].tail()
    )


def all_in(state: str, count: int) -> Callable[[Sequence[Sliver]], bool]:
    return lambda rows: len(rows) == count and all(v["state"] == state for v in rows)


def wait_all(system: System, slice_id: str, state: str, count: int, timeout_s: float = 30.0) -> Any:
    return wait_slivers(system, slice_id, all_in(state, count), f"all {state}", timeout_s)


def wait_gone(system: System, slice_id: str, timeout_s: float = 30.0) -> None:
    url = system.url("provisioner", f"/api/v1/slices/{slice_id}")
    wait_for(
        lambda: system.http.get(url).status_code == 404,
        timeout_s,
        lambda: f"slice {slice_id} still there: {system.http.get(url).text[:1000]}",
    )


def desired_slivers(system: System, config: dict[str, Any]) -> list[dict[str, Any]]:
    """The slivers a box is asked to hold, as its agent fetches them (with its own token)."""
    response = system.http.get(
        system.url("provisioner", f"/api/v1/boxes/{config['box_id']}/desired"),
        headers={"Authorization": f"Bearer {config['token']}"},
    )
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["slivers"]
    return found


def sliver_events(system: System, state: str) -> list[Envelope]:
    """The stored ``provisioner.sliver.<state>`` events of the PROVISIONER stream."""
    return [
        e
        for e in stored(system.nats_url, "PROVISIONER")
        if e.type == STATE_CHANGED and e.data.get("state") == state
    ]


def upload_image(system: System, data: bytes, name: str, version: str) -> dict[str, Any]:
    """An amd64 tar.gz root filesystem into the image store, on the stable channel; returns
    once the provisioner has heard of it (a slice naming it may be created at once)."""
    response = system.http.post(
        system.url("imagestore", "/api/v1/images"),
        params={
            "name": name,
            "version": version,
            "arch": "amd64",
            "format": "tar.gz",
            "channel": "stable",
        },
        content=data,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert response.status_code == 201, response.text
    found: dict[str, Any] = response.json()
    wait_consumer_idle(system.nats_url, IMAGESTORE.name, "provisioner-images")
    return found


def sliver_container(sliver: Sliver) -> str:
    """The sliver's container name on its box: ``sliver-<12 hex of its id>-<instance>``."""
    return f"sliver-{str(sliver['id']).replace('-', '')[:12]}-{sliver['instance']}"


def wait_consumer_idle(nats_url: str, stream: str, durable: str, timeout_s: float = 15.0) -> None:
    """Until ``durable`` has handled every message of ``stream`` (none pending or unacked)."""

    async def idle() -> bool:
        nc = await nats.connect(nats_url)
        try:
            info = await nc.jetstream().consumer_info(stream, durable)
            return bool(info.num_pending == 0 and info.num_ack_pending == 0)
        finally:
            await nc.close()

    wait_for(lambda: asyncio.run(idle()), timeout_s, lambda: f"{durable} still busy")


def wait_reported(system: System, sliver_ids: Sequence[str], timeout_s: float = 15.0) -> None:
    """Until each sliver is in a report of its box on the bus, and the provisioner has
    handled every report: no report is left for a provisioner started after this."""

    def reported() -> bool:
        seen = {
            str(s["sliver_id"])
            for e in stored(system.nats_url, "AGENTS")
            for s in e.data.get("slivers", [])
        }
        return set(sliver_ids) <= seen

    wait_for(reported, timeout_s, lambda: f"slivers {sliver_ids} never reported")
    wait_consumer_idle(system.nats_url, "AGENTS", "provisioner-agents")
