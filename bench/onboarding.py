"""Onboarding benchmark: device POST until ``provisioner.box.ready``, on the embedded default.

Starts PostgreSQL and NATS from the wheels and every service as its own process, the
identity service among them, as ``guificloud dev`` runs them; seeds a
Guifi-Community-Distro, and runs simulated box agents in this process: an agent is started
for each box as soon as ``provisioner.box.configured`` announces it (as a member would plug
the box in), using the configuration the provisioner serves to operators.

    .venv/bin/python bench/onboarding.py [--samples 60] [--burst 500]

Prints progress, then as its last line one JSON object: ``boxes``, ``samples``, ``p50_ms``,
``p99_ms`` (one box at a time, each device added with the deployment's admin token: a plain
comparison, the cheapest credential there is), ``p50_ms_auth``, ``p99_ms_auth`` (the same,
in the same run, taking turns with those: each added with the access token of a member who
logged in, a node admin of the node's group, whose signature and roles the registry checks),
``boxes_per_s`` (``burst`` boxes added at once with that access token, until all are
ready), and the same-run floor
``floor_p50_ms`` / ``floor_p99_ms`` (see ``floor.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from uuid import UUID

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from floor import floor_latencies_ms

from guificloud.boxes import BoxConfig
from guificloud.devservers.nats import NatsServer
from guificloud.devservers.ports import free_port
from guificloud.devservers.postgres import PostgresServer
from guificloud.events.envelope import Envelope
from guificloud.logging import configure_logging
from guificloud.testing.identity import (
    OPERATOR,
    OPERATOR_PASSWORD,
    Accounts,
    bootstrap_operator,
    login,
)
from guificloud.testing.processes import ServiceProcess
from guificloud_agent.agent import Agent
from guificloud_agent.drivers import SimulatedDriver
from guificloud_agent.httpclient import http_client
from guificloud_agent.metrics import MetricsSampler
from guificloud_agent.options import AgentOptions
from guificloud_imagestore.distro import build_distro_rootfs

SERVICES = ("identity", "registry", "provisioner", "monitor", "imagestore")
ADMIN = secrets.token_urlsafe(32)
MEMBER, MEMBER_PASSWORD = "bench", secrets.token_urlsafe(18)
"""A node admin of the group ``bench`` (allowed nodes), whose node the boxes are added to."""
HARDWARE = {"arch": "amd64", "cores": 2, "ram_mb": 4096, "disk_gb": 120}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Fleet:
    """Starts an agent for every box the provisioner configures; tracks ready boxes."""

    def __init__(self, bus_url: str, provisioner_url: str, root: Path) -> None:
        self.bus_url = bus_url
        self.provisioner_url = provisioner_url
        self.root = root
        self.stop = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []
        self.adopted: set[str] = set()
        self.ready: dict[UUID, asyncio.Future[float]] = {}
        self.sampler = MetricsSampler(root, max_age_s=1.0)

    def expect(self, box_id: UUID) -> asyncio.Future[float]:
        return self.ready.setdefault(box_id, asyncio.get_running_loop().create_future())

    async def run(self) -> None:
        import nats

        self.nc = await nats.connect(self.bus_url)
        self.http = http_client()
        self.admin = httpx.AsyncClient(timeout=30, headers={"Authorization": f"Bearer {ADMIN}"})
        await self.nc.subscribe("provisioner.box.configured", cb=self._on_configured)
        await self.nc.subscribe("provisioner.box.ready", cb=self._on_ready)

    async def _on_configured(self, msg) -> None:  # type: ignore[no-untyped-def]
        box_id = Envelope.model_validate_json(msg.data).data["box_id"]
        self.configured_at = time.perf_counter()
        if box_id not in self.adopted:  # configured again (another reason): one agent, one token
            self.adopted.add(box_id)
            self.tasks.append(asyncio.create_task(self._adopt(box_id)))

    async def _adopt(self, box_id: str) -> None:
        response = await self.admin.get(f"{self.provisioner_url}/api/v1/boxes/{box_id}/config")
        response.raise_for_status()
        config = BoxConfig.model_validate(response.json())
        options = AgentOptions(cache_dir=self.root / box_id, resync_interval_s=30.0)
        agent = Agent(
            config,
            options,
            driver=SimulatedDriver(options.state_dir),
            metrics=self.sampler,
            http=self.http,
        )
        await agent.run(self.stop)

    async def _on_ready(self, msg) -> None:  # type: ignore[no-untyped-def]
        box_id = UUID(Envelope.model_validate_json(msg.data).data["box_id"])
        future = self.expect(box_id)
        if not future.done():
            future.set_result(time.perf_counter())

    async def close(self) -> None:
        self.stop.set()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.nc.close()
        await self.http.aclose()
        await self.admin.aclose()


def post_burst(registry: str, node_id: str, count: int, concurrency: int, token: str) -> list[str]:
    """Add ``count`` devices at once with the access token ``token``, from a process of its
    own so that the HTTP client's work does not land on the simulated boxes' event loop."""

    async def run() -> list[str]:
        limits = httpx.Limits(max_connections=concurrency)
        auth = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(timeout=60, limits=limits, headers=auth) as client:
            gate = asyncio.Semaphore(concurrency)

            async def one(i: int) -> str:
                async with gate:
                    return str(await add_device(client, registry, node_id, 10_000 + i))

            return await asyncio.gather(*(one(i) for i in range(count)))

    return asyncio.run(run())


def warm_up() -> None:
    """Import what the poster needs before the clock starts."""


async def add_device(client: httpx.AsyncClient, registry: str, node_id: str, i: int) -> UUID:
    response = await client.post(
        f"{registry}/api/v1/nodes/{node_id}/devices",
        json={"name": f"bench-{i}", "type": "cloudy", "hardware": HARDWARE},
    )
    response.raise_for_status()
    return UUID(response.json()["id"])


async def measure(root: Path, samples: int, burst: int) -> dict[str, object]:
    pg = PostgresServer(root / "postgres", port=free_port())
    nats_server = NatsServer(root / "nats", port=free_port())
    pg.start(log_file=root / "postgres.log")
    nats_server.start(log_file=root / "nats.log")
    procs: list[ServiceProcess] = []
    try:
        pg.create_database("guificloud")
        say("floor: the same hops and commits with handlers that do nothing")
        floor = await floor_latencies_ms(nats_server.url, pg.url("guificloud"), samples)

        ports = {name: free_port() for name in SERVICES}
        urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
        env = {
            "GUIFICLOUD_DATABASE_URL": pg.url("guificloud"),
            "GUIFICLOUD_NATS_URL": nats_server.url,
            "GUIFICLOUD_DATA_DIR": str(root / "data"),
            "GUIFICLOUD_ADMIN_TOKEN": ADMIN,
            "GUIFICLOUD_IDENTITY_URL": urls["identity"],
            "GUIFICLOUD_ENVIRONMENT": "development",  # as guificloud dev runs them
            "GUIFICLOUD_IMAGESTORE_URL": urls["imagestore"],
            "GUIFICLOUD_IMAGESTORE_REQUIRE_SIGNATURE": "false",  # unsigned, as in development
            "GUIFICLOUD_LOG_LEVEL": "warning",
        }
        procs = [
            ServiceProcess(f"guificloud_{n}", env=env, port=ports[n], log_dir=root)
            for n in SERVICES
        ]
        for proc in procs:
            proc.start(wait=False)
        bootstrap_operator(env)
        for proc in procs:
            proc.wait_ready()
        operator = login(urls["identity"], OPERATOR, OPERATOR_PASSWORD)
        with Accounts(urls["identity"], operator) as accounts:
            group = accounts.group("bench", allow_nodes=True)
            accounts.member(MEMBER, MEMBER_PASSWORD, roles={group: ["node_admin"]})
        member = login(urls["identity"], MEMBER, MEMBER_PASSWORD)
        say("services ready; seeding the distro")
        image = build_distro_rootfs(root / "distro.tar.gz", "1.0.0")
        admin = {"Authorization": f"Bearer {ADMIN}"}
        async with (
            httpx.AsyncClient(timeout=60, headers=admin) as client,
            httpx.AsyncClient(timeout=60, auth=member) as logged_in,
        ):
            response = await client.post(
                f"{urls['imagestore']}/api/v1/images",
                content=image.read_bytes(),
                params={
                    "name": "guifi-community-distro",
                    "version": "1.0.0",
                    "arch": "amd64",
                    "format": "tar.gz",
                },
            )
            response.raise_for_status()
            await asyncio.sleep(1.0)  # let the provisioner learn of the distro
            zone = (
                await client.post(f"{urls['registry']}/api/v1/zones", json={"name": "bench"})
            ).json()["id"]
            node = (
                await client.post(
                    f"{urls['registry']}/api/v1/nodes",
                    json={
                        "name": "bench",
                        "zone_id": zone,
                        "latitude": 41.9,
                        "longitude": 2.2,
                        "owner_group_id": group,
                    },
                )
            ).json()["id"]

            fleet = Fleet(nats_server.url, urls["provisioner"], root / "boxes")
            await fleet.run()
            try:
                say(f"latency: {samples} boxes one at a time, and {samples} with an access token")
                latencies: list[float] = []
                with_auth: list[float] = []
                for i in range(2 * (samples + 5)):
                    by = logged_in if i % 2 else client  # taking turns: the same conditions
                    start = time.perf_counter()
                    box_id = await add_device(by, urls["registry"], node, i)
                    ready_at = await asyncio.wait_for(fleet.expect(box_id), 60)
                    (with_auth if by is logged_in else latencies).append((ready_at - start) * 1000)
                latencies, with_auth = latencies[5:], with_auth[5:]

                say(f"throughput: {burst} boxes added at once")
                loop = asyncio.get_running_loop()
                with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as poster:
                    await loop.run_in_executor(poster, warm_up)
                    start = time.perf_counter()
                    access = member.access_token()
                    ids = await loop.run_in_executor(
                        poster, post_burst, urls["registry"], node, burst, 32, access
                    )
                posted = time.perf_counter() - start
                waits = (fleet.expect(UUID(b)) for b in ids)
                await asyncio.wait_for(asyncio.gather(*waits), 600)
                elapsed = time.perf_counter() - start
                say(f"burst: devices posted after {posted:.2f}s, all ready after {elapsed:.2f}s")
            finally:
                await fleet.close()
    finally:
        for proc in procs:
            proc.stop()
        nats_server.stop()
        pg.stop()
    return {
        "boxes": 2 * (samples + 5) + burst,
        "samples": len(latencies),
        "p50_ms": round(statistics.median(latencies), 2),
        "p99_ms": round(percentile(latencies, 0.99), 2),
        "p50_ms_auth": round(statistics.median(with_auth), 2),
        "p99_ms_auth": round(percentile(with_auth, 0.99), 2),
        "burst": burst,
        "burst_s": round(elapsed, 2),
        "boxes_per_s": round(burst / elapsed, 1),
        "floor_p50_ms": round(statistics.median(floor), 2),
        "floor_p99_ms": round(percentile(floor, 0.99), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=60)
    parser.add_argument("--burst", type=int, default=500)
    args = parser.parse_args()
    configure_logging("bench", fmt="console", level="warning")
    with tempfile.TemporaryDirectory(prefix="guificloud-bench-") as tmp:
        result = asyncio.run(measure(Path(tmp), args.samples, args.burst))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
