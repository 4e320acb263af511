"""The whole system as real processes for end-to-end tests, and what tests ask of it.

Every service verifies callers against the real identity service the system runs; its first
operator is made as a deployment makes it, the system's requests are that operator's
(:attr:`System.http`), and its slices belong to the group ``e2e`` (:attr:`System.group_id`),
allowed nodes and slices."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import nats
from nats.js.api import ConsumerConfig, DeliverPolicy

from guificloud.devservers.ports import free_port
from guificloud.events.envelope import Envelope
from guificloud.testing.authority import ADMIN_TOKEN
from guificloud.testing.identity import (
    OPERATOR,
    OPERATOR_PASSWORD,
    Accounts,
    bootstrap_operator,
    login,
)
from guificloud.testing.processes import ServiceProcess

SERVICES = ("identity", "registry", "provisioner", "monitor", "imagestore")
HARDWARE = {"arch": "amd64", "cores": 2, "ram_mb": 4096, "disk_gb": 120}


class System:
    def __init__(
        self, database_url: str, nats_url: str, root: Path, heartbeat_interval_s: float = 0.3
    ) -> None:
        self.root = root
        self.nats_url = nats_url
        self.ports = {name: free_port() for name in SERVICES}
        self.urls = {name: f"http://127.0.0.1:{port}" for name, port in self.ports.items()}
        self.env = {
            "GUIFICLOUD_DATABASE_URL": database_url,
            "GUIFICLOUD_NATS_URL": nats_url,
            "GUIFICLOUD_DATA_DIR": str(root / "data"),
            "GUIFICLOUD_ADMIN_TOKEN": ADMIN_TOKEN,
            "GUIFICLOUD_ENVIRONMENT": "test",
            "GUIFICLOUD_IMAGESTORE_URL": self.urls["imagestore"],
            "GUIFICLOUD_IDENTITY_URL": self.urls["identity"],
            "GUIFICLOUD_HEARTBEAT_INTERVAL_S": str(heartbeat_interval_s),
            # the tests publish unsigned images, as in development
            "GUIFICLOUD_IMAGESTORE_REQUIRE_SIGNATURE": "false",
        }
        self.services = {
            name: ServiceProcess(
                f"guificloud_{name}", env=self.env, port=self.ports[name], log_dir=root
            )
            for name in SERVICES
        }
        self.agents: list[AgentProcess] = []
        self.http = httpx.Client(timeout=10.0)
        self.group_id = ""

    def start(self) -> None:
        for proc in self.services.values():
            proc.start(wait=False)
        bootstrap_operator(self.env)
        for proc in self.services.values():
            proc.wait_ready()
        self.http.auth = login(self.urls["identity"], OPERATOR, OPERATOR_PASSWORD)
        with Accounts(self.urls["identity"], self.http.auth) as accounts:
            self.group_id = accounts.group("e2e", allow_nodes=True, allow_slices=True)

    def stop(self) -> None:
        for agent in self.agents:
            agent.kill()
        for proc in self.services.values():
            proc.stop()
        self.http.close()

    def url(self, service: str, path: str) -> str:
        return self.urls[service] + path

    # --- what a member does -------------------------------------------------------------
    def add_cloud_box(
        self,
        name: str = "box",
        *,
        hardware: dict[str, Any] | None = None,
        device_type: str = "cloudy",
    ) -> str:
        zone = self.post("registry", "/api/v1/zones", {"name": f"zone of {name}"})
        node = self.post(
            "registry",
            "/api/v1/nodes",
            {
                "name": f"node of {name}",
                "zone_id": zone["id"],
                "latitude": 41.930123,
                "longitude": 2.254567,
                "status": "Working",
            },
        )
        device = self.post(
            "registry",
            f"/api/v1/nodes/{node['id']}/devices",
            {"name": name, "type": device_type, "hardware": hardware or HARDWARE},
        )
        return str(device["id"])

    def post(self, service: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.http.post(self.url(service, path), json=body)
        assert response.status_code == 201, response.text
        return dict(response.json())

    def upload_distro(self, path: Path, version: str, *, arch: str = "amd64") -> dict[str, Any]:
        """Publish, then wait until the provisioner has heard of it: a box added at once is
        then given it, not first configured as waiting for a distro."""
        image = upload_distro(self.http, self.urls["imagestore"], path, version, arch=arch)
        deadline = time.monotonic() + 30
        while not any(
            d["digest"] == image["digest"]
            for d in self.http.get(self.url("provisioner", "/api/v1/distros")).json()
        ):
            assert time.monotonic() < deadline, f"the provisioner never heard of {version}"
            time.sleep(0.1)
        return image

    def box(self, box_id: str) -> dict[str, Any]:
        response = self.http.get(self.url("provisioner", f"/api/v1/boxes/{box_id}"))
        assert response.status_code == 200, response.text
        return dict(response.json())

    def assign_distro(self, box_id: str, version: str | None = None) -> dict[str, Any]:
        """Move a box that runs a distro to ``version`` (the current one), as an operator."""
        response = self.http.post(
            self.url("provisioner", f"/api/v1/boxes/{box_id}/distro"),
            json={"version": version},
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    def box_config(self, box_id: str) -> dict[str, Any]:
        response = self.http.get(self.url("provisioner", f"/api/v1/boxes/{box_id}/config"))
        assert response.status_code == 200, response.text
        return dict(response.json())

    def wait_box(
        self,
        box_id: str,
        predicate: Callable[[dict[str, Any]], bool],
        timeout_s: float = 30.0,
        what: str = "",
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        last: dict[str, Any] = {}
        while time.monotonic() < deadline:
            response = self.http.get(self.url("provisioner", f"/api/v1/boxes/{box_id}"))
            if response.status_code == 200:
                last = response.json()
                if predicate(last):
                    return last
            time.sleep(0.1)
        raise AssertionError(
            f"box {box_id} never {what}: last seen {json.dumps(last)[:2000]}\n"
            + self.services["provisioner"].tail()
        )

    def wait_state(self, box_id: str, state: str, timeout_s: float = 30.0) -> dict[str, Any]:
        return self.wait_box(box_id, lambda b: b["state"] == state, timeout_s, f"became {state}")

    def start_agent(
        self, box_id: str, *, rate_limit_bps: int | None = None, name: str | None = None
    ) -> AgentProcess:
        config_path = self.root / f"agent-{box_id}.json"
        config_path.write_text(json.dumps(self.box_config(box_id)))
        agent = AgentProcess(
            config_path,
            self.root / f"cache-{box_id}",
            self.root / f"{name or 'agent-' + box_id}.log",
            rate_limit_bps,
        )
        agent.start()
        self.agents.append(agent)
        return agent

    def monitor_box(self, box_id: str) -> dict[str, Any] | None:
        response = self.http.get(self.url("monitor", f"/api/v1/boxes/{box_id}"))
        return dict(response.json()) if response.status_code == 200 else None

    def wait_monitor(self, box_id: str, state: str, timeout_s: float = 20.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        last = None
        while time.monotonic() < deadline:
            last = self.monitor_box(box_id)
            if last is not None and last.get("state") == state:
                return last
            time.sleep(0.1)
        raise AssertionError(f"monitor never showed {box_id} {state}: {last}")


def upload_distro(
    http: httpx.Client,
    imagestore_url: str,
    path: Path,
    version: str,
    *,
    arch: str = "amd64",
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Publish a Guifi-Community-Distro root filesystem on the stable channel."""
    with path.open("rb") as body:
        response = http.post(
            f"{imagestore_url}/api/v1/images",
            params={
                "name": "guifi-community-distro",
                "version": version,
                "arch": arch,
                "format": "tar.gz",
                "channel": "stable",
            },
            content=body,
            headers={"Content-Type": "application/octet-stream", **(headers or {})},
        )
    assert response.status_code == 201, response.text
    return dict(response.json())


class AgentProcess:
    def __init__(
        self, config: Path, cache_dir: Path, log_path: Path, rate_limit_bps: int | None
    ) -> None:
        self.config = config
        self.cache_dir = cache_dir
        self.log_path = log_path
        self.rate_limit_bps = rate_limit_bps
        self.process: Any = None

    def start(self, *, rate_limit_bps: int | None = None) -> None:
        import subprocess

        argv = [
            sys.executable,
            "-m",
            "guificloud_agent",
            "run",
            "--config",
            str(self.config),
            "--cache-dir",
            str(self.cache_dir),
        ]
        limit = rate_limit_bps if rate_limit_bps is not None else self.rate_limit_bps
        if limit:
            argv += ["--rate-limit", str(limit)]
        out = open(self.log_path, "ab")  # noqa: SIM115
        self.process = subprocess.Popen(
            argv,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**_env(), "GUIFICLOUD_LOG_FORMAT": "json"},
        )

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def _env() -> dict[str, str]:
    import os

    return dict(os.environ)


async def stream_envelopes(nats_url: str, stream: str, *, settle_s: float = 0.3) -> list[Envelope]:
    """Every message stored in ``stream``, oldest first, decoded as envelopes."""
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        info = await js.stream_info(stream)
        sub = await js.pull_subscribe(
            info.config.subjects[0],
            stream=stream,
            config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL),
        )
        out: list[Envelope] = []
        while True:
            try:
                msgs = await sub.fetch(256, timeout=settle_s)
            except (TimeoutError, nats.errors.TimeoutError):
                break
            for msg in msgs:
                out.append(Envelope.model_validate_json(msg.data))
                await msg.ack()
        await sub.unsubscribe()
        return out
    finally:
        await nc.close()


def events_of(envelopes: list[Envelope], box_id: str) -> list[str]:
    keys = ("box_id", "device_id")
    return [e.type for e in envelopes if any(str(e.data.get(k)) == box_id for k in keys)]


def stored(nats_url: str, stream: str) -> list[Envelope]:
    return asyncio.run(stream_envelopes(nats_url, stream))
