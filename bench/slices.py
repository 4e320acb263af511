"""Slices benchmark: the scheduler over 10,000 boxes, and a 100-sliver slice started on
simulated boxes, on the embedded default.

Starts PostgreSQL and NATS from the wheels, then:

1. placement: migrates the provisioner's schema into a database of its own, inserts
   ``--boxes`` simulated ready, online boxes as the provisioner's rows (hardware, capacity
   already partly allocated, spread over nodes and a zone tree), loads them as the
   scheduler's candidates the way the provisioner does, and times ``scheduler.place`` for
   a ``--place`` sliver request with spread (the median of ``--rounds`` runs); the floor is
   the same number of boxes chosen by a plain sort of free capacity over the same candidates;
2. a slice: the registry, provisioner, monitor and image store as processes (as the
   onboarding benchmark runs them), ``--fleet`` simulated boxes enrolled through the registry
   and run by ``guificloud agent sim`` in a process of its own, all ready and online; then
   one slice of ``--slivers`` slivers with ``set_state=start`` is POSTed, and the clock runs
   until every one of its slivers is started (``provisioner.sliver.started`` on the bus,
   checked against the API).

    .venv/bin/python bench/slices.py [--boxes 10000] [--place 1000] [--slivers 100]

Prints progress and the figures next to their targets, then as its last line one JSON
object: ``boxes``, ``place_slivers``, ``place_1000_slivers_ms``, ``floor_place_ms``,
``load_candidates_ms``, ``fleet``, ``slivers``, ``slice_100_started_s``, ``targets``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx
import nats
from sqlalchemy import insert

from guificloud.bus.connection import Bus
from guificloud.db.engine import make_engine, make_session_factory
from guificloud.db.migrations import upgrade
from guificloud.db.uow import UnitOfWork
from guificloud.devservers.nats import NatsServer
from guificloud.devservers.ports import free_port
from guificloud.devservers.postgres import PostgresServer
from guificloud.events.envelope import Envelope
from guificloud.events.identity import GroupChanged, Quotas
from guificloud.logging import configure_logging
from guificloud.streams import IDENTITY
from guificloud.testing.processes import ServiceProcess
from guificloud_imagestore.distro import build_distro_rootfs
from guificloud_provisioner.models import SCHEMA, Box, messaging
from guificloud_provisioner.settings import ProvisionerSettings
from guificloud_provisioner.slices import scheduler
from guificloud_provisioner.slices.models import Zone
from guificloud_provisioner.slices.placement import candidates
from guificloud_provisioner.slices.scheduler import Candidate

SERVICES = ("registry", "provisioner", "monitor", "imagestore")
ADMIN = secrets.token_urlsafe(32)  # an operator's credential, strong as outside development
BENCH_GROUP = UUID("00000000-0000-4000-8000-00000000b0b0")
TARGETS = {"place_1000_slivers_ms": 200.0, "slice_100_started_s": 5.0}
SLIVER = {"memory_mb": 256, "disk_mb": 200, "cpu_share": 0.5}


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- placement over simulated boxes -------------------------------------------------------
def zone_tree(rng: random.Random, regions: int = 12, per_region: int = 20) -> list[dict[str, Any]]:
    """A root, regions under it, and local zones under each region (as guifi.net's tree)."""
    root = {"id": uuid4(), "parent_id": None}
    zones = [root]
    for _ in range(regions):
        region = {"id": uuid4(), "parent_id": root["id"]}
        zones.append(region)
        zones += [{"id": uuid4(), "parent_id": region["id"]} for _ in range(per_region)]
    return zones


def box_rows(rng: random.Random, n: int, zones: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``n`` ready, online boxes; about one node in five holds two boxes; some capacity is
    already taken by other slivers."""
    leaves = [z["id"] for z in zones if z["parent_id"] is not None]
    rows: list[dict[str, Any]] = []
    node: UUID = uuid4()
    zone: UUID = rng.choice(leaves)
    for i in range(n):
        if i == 0 or rng.random() > 0.2:
            node, zone = uuid4(), rng.choice(leaves)
        ram = rng.choice((2048, 4096, 4096, 8192))
        disk_gb = rng.choice((60, 120, 120, 250))
        rows.append(
            {
                "id": uuid4(),
                "node_id": node,
                "zone_id": zone,
                "name": f"bench-box-{i:05d}",
                "device_type": "cloudy",
                "arch": "amd64" if rng.random() < 0.9 else "arm64",
                "cores": 2,
                "ram_mb": ram,
                "disk_gb": disk_gb,
                "state": "ready",
                "generation": 1,
                "agent_state": "running",
                "allocated_memory_mb": rng.randrange(0, ram // 2, 256),
                "allocated_disk_mb": rng.randrange(0, disk_gb * 512, 200),
                "online": True,
            }
        )
    return rows


async def seed_boxes(database_url: str, n: int) -> None:
    engine = make_engine(database_url)
    try:
        await upgrade(engine, "guificloud_provisioner:migrations", SCHEMA)
        rng = random.Random(5)
        zones = zone_tree(rng)
        rows = box_rows(rng, n, zones)
        async with engine.begin() as conn:
            await conn.execute(insert(Zone.__table__), zones)
            for start in range(0, len(rows), 2000):
                await conn.execute(insert(Box.__table__), rows[start : start + 2000])
    finally:
        await engine.dispose()


async def load(database_url: str, request: scheduler.PlacementRequest) -> list[Candidate]:
    """The candidates as the provisioner loads them for a placement (its own query)."""
    engine = make_engine(database_url)
    try:
        uow = UnitOfWork(make_session_factory(engine), messaging, source="bench")
        async with uow:
            settings = ProvisionerSettings(admin_token=ADMIN)
            found: list[Candidate] = await candidates(uow, settings, request, None)
            return found
    finally:
        await engine.dispose()


def floor_place(count: int, found: list[Candidate]) -> list[UUID]:
    """The floor: the ``count`` boxes with the most free capacity, by one plain sort."""
    ranked = sorted(found, key=lambda c: (c.free_memory_mb, c.free_disk_mb), reverse=True)
    return [c.box_id for c in ranked[:count]]


def time_ms(fn: Any, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


async def measure_placement(
    database_url: str, boxes: int, count: int, rounds: int
) -> dict[str, Any]:
    say(f"placement: {boxes} simulated boxes into the provisioner's tables")
    await seed_boxes(database_url, boxes)
    request = scheduler.PlacementRequest(
        count=count, memory_mb=SLIVER["memory_mb"], disk_mb=SLIVER["disk_mb"], spread=True
    )
    start = time.perf_counter()
    found = await load(database_url, request)
    loaded_ms = (time.perf_counter() - start) * 1000
    say(f"loaded {len(found)} candidates in {loaded_ms:.1f} ms")
    chosen = scheduler.place(request, found)
    node_of = {c.box_id: c.node_id for c in found}
    assert len(set(chosen)) == count and len({node_of[b] for b in chosen}) == count, "spread"
    place_ms = time_ms(lambda: scheduler.place(request, found), rounds)
    floor_ms = time_ms(lambda: floor_place(count, found), rounds)
    return {
        "boxes": boxes,
        "candidates": len(found),
        "place_slivers": count,
        "place_1000_slivers_ms": round(place_ms, 2),
        "floor_place_ms": round(floor_ms, 2),
        "load_candidates_ms": round(loaded_ms, 1),
    }


# --- a slice on real services and simulated boxes -----------------------------------------
async def post(client: httpx.AsyncClient, url: str, body: Any = None, **kw: Any) -> Any:
    response = await client.post(url, json=body, **kw)
    if response.status_code not in (200, 201, 202):
        raise RuntimeError(f"POST {url}: {response.status_code} {response.text[:500]}")
    return response.json()


async def allow_slices(bus_url: str) -> None:
    """The bench's group, as the identity service would announce it: slices, no quota."""
    bus = await Bus.connect(bus_url, name="bench")
    try:
        await bus.declare((IDENTITY,))
        group = GroupChanged(
            group_id=BENCH_GROUP, name="bench", allow_nodes=True, allow_slices=True, quotas=Quotas()
        )
        await bus.publish(group.subject(), Envelope.wrap(group, source="bench"))
    finally:
        await bus.close()


async def wait_fleet_ready(client: httpx.AsyncClient, provisioner: str, n: int) -> None:
    """Until ``n`` boxes are ready and the provisioner knows them online."""
    deadline = time.monotonic() + 300
    seen = 0
    while time.monotonic() < deadline:
        response = await client.get(f"{provisioner}/api/v1/boxes", params={"limit": 5000})
        boxes = response.json() if response.status_code == 200 else []
        seen = sum(1 for b in boxes if b["state"] == "ready" and b.get("online") is True)
        if seen >= n:
            return
        await asyncio.sleep(0.5)
    raise RuntimeError(f"only {seen} of {n} boxes ready and online")


class Trace:
    """When the flow's messages first and last passed, by kind: where the time goes."""

    def __init__(self) -> None:
        self.times: dict[str, list[float]] = {}

    async def seen(self, msg: Any) -> None:
        parts = msg.subject.split(".")
        kind = f"{parts[0]}.*.{parts[2]}" if parts[0] in ("box", "agent") else msg.subject
        self.times.setdefault(kind, []).append(time.perf_counter())

    def summary(self, start: float) -> str:
        rows = sorted(self.times.items(), key=lambda kv: kv[1][0])
        return "\n".join(
            f"  {kind:30} {len(t):5} messages, first at {t[0] - start:5.2f}s, "
            f"last at {t[-1] - start:5.2f}s"
            for kind, t in rows
        )


async def measure_slice(
    root: Path, pg: PostgresServer, bus_url: str, fleet: int, n: int
) -> dict[str, Any]:
    pg.create_database("guificloud")
    ports = {name: free_port() for name in SERVICES}
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    env = {
        "GUIFICLOUD_DATABASE_URL": pg.url("guificloud"),
        "GUIFICLOUD_NATS_URL": bus_url,
        "GUIFICLOUD_DATA_DIR": str(root / "data"),
        "GUIFICLOUD_ADMIN_TOKEN": ADMIN,
        "GUIFICLOUD_IMAGESTORE_URL": urls["imagestore"],
        "GUIFICLOUD_ENVIRONMENT": "development",  # as guificloud dev runs them
        "GUIFICLOUD_IMAGESTORE_REQUIRE_SIGNATURE": "false",  # unsigned, as in development
        "GUIFICLOUD_LOG_LEVEL": "warning",
        "GUIFICLOUD_HEARTBEAT_INTERVAL_S": "1.0",
    }
    procs = [
        ServiceProcess(f"guificloud_{s}", env=env, port=ports[s], log_dir=root) for s in SERVICES
    ]
    sim: subprocess.Popen[bytes] | None = None
    nc = await nats.connect(bus_url)
    try:
        for proc in procs:
            proc.start(wait=False)
        for proc in procs:
            proc.wait_ready()
        await allow_slices(bus_url)
        operator = {"Authorization": f"Bearer {ADMIN}"}
        async with httpx.AsyncClient(timeout=60, headers=operator) as client:
            for name, version in (("guifi-community-distro", "1.0.0"), ("bench-sliver", "1.0")):
                image = build_distro_rootfs(root / f"{name}.tar.gz", version)
                await post(
                    client,
                    f"{urls['imagestore']}/api/v1/images",
                    content=image.read_bytes(),
                    params={"name": name, "version": version, "arch": "amd64", "format": "tar.gz"},
                )
            await asyncio.sleep(1.0)  # let the provisioner learn of the images
            say(f"slice: {fleet} simulated boxes enrolled through the registry")
            with (root / "fleet.log").open("ab") as log:
                sim = subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "guificloud_agent",
                        "sim",
                        f"--boxes={fleet}",
                        f"--registry-url={urls['registry']}",
                        f"--provisioner-url={urls['provisioner']}",
                        f"--cache-dir={root / 'fleet'}",
                        "--log-level=warning",
                    ],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env={**os.environ, **env},
                )
            await wait_fleet_ready(client, urls["provisioner"], fleet)
            say(f"{fleet} boxes ready and online; a {n}-sliver slice, set to start")

            started: dict[str, float] = {}
            done = asyncio.Event()
            slice_id: list[str] = []

            async def on_started(msg: Any) -> None:
                data = Envelope.model_validate_json(msg.data).data
                if slice_id and str(data["slice_id"]) == slice_id[0]:
                    started.setdefault(str(data["sliver_id"]), time.perf_counter())
                    if len(started) >= n:
                        done.set()

            await nc.subscribe("provisioner.sliver.started", cb=on_started)
            trace = Trace()
            for subject in ("provisioner.sliver.*", "box.*.sync", "agent.*.reported"):
                await nc.subscribe(subject, cb=trace.seen)
            await nc.flush()
            body = {
                "name": "bench-slice",
                "group_id": str(BENCH_GROUP),
                "image": {"name": "bench-sliver"},
                "sliver_defaults": SLIVER,
                "placement": {"count": n, "spread": True},
                "set_state": "start",
            }
            start = time.perf_counter()
            created = await post(client, f"{urls['provisioner']}/api/v1/slices", body)
            created_at = time.perf_counter()
            slice_id.append(str(created["id"]))
            await asyncio.wait_for(done.wait(), 300)
            elapsed = time.perf_counter() - start
            rows = (
                await client.get(f"{urls['provisioner']}/api/v1/slices/{created['id']}/slivers")
            ).json()
            states = {v["state"] for v in rows}
            assert len(rows) == n and states == {"started"}, f"API shows {states}"
            posted = created_at - start
            first, half = sorted(started.values())[0], sorted(started.values())[n // 2]
            say(trace.summary(start))
            say(
                f"all {n} slivers started {elapsed:.2f}s after POST /slices (the POST took "
                f"{posted:.2f}s; the first started at {first - start:.2f}s, "
                f"half at {half - start:.2f}s)"
            )
    finally:
        await nc.close()
        if sim is not None and sim.poll() is None:
            sim.terminate()
            try:
                sim.wait(30)
            except subprocess.TimeoutExpired:
                sim.kill()
                sim.wait()
        for proc in procs:
            proc.stop()
    return {
        "fleet": fleet,
        "slivers": n,
        "slice_100_started_s": round(elapsed, 2),
        "slice_post_s": round(posted, 3),
        "slice_half_started_s": round(half - start, 2),
    }


async def measure(root: Path, args: argparse.Namespace) -> dict[str, object]:
    pg = PostgresServer(root / "postgres", port=free_port())
    nats_server = NatsServer(root / "nats", port=free_port())
    pg.start(log_file=root / "postgres.log")
    nats_server.start(log_file=root / "nats.log")
    try:
        pg.create_database("placement")
        result = await measure_placement(pg.url("placement"), args.boxes, args.place, args.rounds)
        if not args.placement_only:
            result |= await measure_slice(root, pg, nats_server.url, args.fleet, args.slivers)
    finally:
        nats_server.stop()
        pg.stop()
    return result | {"targets": TARGETS}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--boxes", type=int, default=10_000)
    parser.add_argument("--place", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--fleet", type=int, default=110)
    parser.add_argument("--slivers", type=int, default=100)
    parser.add_argument("--placement-only", action="store_true", help="Skip the slice run.")
    args = parser.parse_args()
    configure_logging("bench", fmt="console", level="warning")
    with tempfile.TemporaryDirectory(prefix="guificloud-bench-") as tmp:
        result = asyncio.run(measure(Path(tmp), args))
    for key, target in TARGETS.items():
        if key in result:
            say(f"{key}: {result[key]} (target < {target:g})")
    say(f"floor_place_ms: {result['floor_place_ms']} (plain sort of free capacity)")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
