"""Registry benchmark: guifi.net's world zone tree, a network at guifi.net's scale, and
filtered list pages over it, on the embedded default.

Starts PostgreSQL and NATS from the wheels and the registry as its own process, then:

1. imports the real whole-world zones export (2,342 zones) through ``POST /api/v1/cnml``;
2. imports a synthetic ``detail`` export of 50,000 nodes and 60,000 devices spread over that
   real tree (each zone gets the share of nodes the real export says it had, placed inside
   its bounding box), then imports it again (which must change nothing);
3. walks filtered node lists page after page (zone subtree and status, bounding box, device
   type, text; up to ``--pages`` deep), timing each page over HTTP, anonymously and with a
   member's access token in turns (node_admin of a group, maintainer of a zone: the registry
   verifies the token and decides node by node whose contact data it may see), and the same
   queries with the same keyset cursors straight on PostgreSQL (asyncpg, no HTTP, no models)
   as the floor;
4. times :class:`guificloud.auth.Verifier` on one access token: cold (the signature checked:
   a token not seen before, its key already fetched) and cached (the same token again).

The registry verifies tokens against a test authority's keys served over HTTP, as it does
the identity service's. CNML imports use the deployment's admin token.

    .venv/bin/python bench/registry.py [--nodes 50000] [--devices 60000] [--pages 60]

Prints progress, then as its last line one JSON object: ``zones_import_s``, ``zones``,
``nodes``, ``devices``, ``bulk_import_s``, ``bulk_import_nodes_per_s``, ``reimport_s``,
``list_samples``, ``list_p50_ms``, ``list_p99_ms``, ``list_p50_ms_auth``,
``list_p99_ms_auth``, ``floor_list_p50_ms``, ``floor_list_p99_ms``, ``auth_check_us``
(median, cold), ``auth_check_p99_us`` (cold) and ``auth_check_cached_us`` (median).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import httpx

from guificloud.auth import Verifier
from guificloud.auth.revocations import RevokedSessions
from guificloud.devservers.nats import NatsServer
from guificloud.devservers.ports import free_port
from guificloud.devservers.postgres import PostgresServer
from guificloud.testing.authority import TestAuthority, bearer, serving_authority
from guificloud.testing.processes import ServiceProcess
from guificloud.testing.tokens import TokenMint
from guificloud_registry.cnml.export import escape_attribute, escape_text

REPO = Path(__file__).resolve().parents[1]
CNML_DIR = Path(
    os.environ.get("GUIFICLOUD_CNML_TESTDATA", REPO.parent / "shared" / "testdata" / "cnml")
)
WORLD = CNML_DIR / "guifi_world_zones_3671.cnml.xml"
STATUSES = (
    ("Working", 70),
    ("Planned", 10),
    ("Testing", 8),
    ("Reserved", 5),
    ("Building", 3),
    ("Inactive", 3),
    ("Dropped", 1),
)
DEVICE_TYPES = (
    ("radio", 80),
    ("server", 8),
    ("generic", 4),
    ("cloudy", 4),
    ("confine", 2),
    ("nat", 2),
)
PAGE = 100


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# --- the synthetic network ----------------------------------------------------------------
def _box(zone: ET.Element) -> tuple[float, float, float, float] | None:
    try:
        box = tuple(float(p) for p in zone.get("box", "").split(","))
    except ValueError:
        return None
    if len(box) != 4 or box[0] > box[2] or box[1] > box[3]:
        return None
    return box  # type: ignore[return-value]


def _shares(zones: list[ET.Element], total: int) -> dict[str, int]:
    """Each zone's own nodes in the real export (its count less its subzones'), scaled."""
    own = {}
    for zone in zones:
        children = sum(int(c.get("zone_nodes", 0)) for c in zone.findall("zone"))
        own[zone.get("id", "")] = max(0, int(zone.get("zone_nodes", 0)) - children)
    whole = sum(own.values())
    scaled = {z: n * total // whole for z, n in own.items()}
    rest = total - sum(scaled.values())
    for z in sorted(own, key=lambda z: -own[z])[:rest]:
        scaled[z] += 1
    return scaled


def _pick(rng: random.Random, weighted: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([k for k, _ in weighted], [w for _, w in weighted])[0]


def _date(rng: random.Random) -> str:
    return datetime.fromtimestamp(rng.uniform(1.1e9, 1.45e9)).strftime("%Y%m%d %H%M")


def _attrs(pairs: dict[str, Any]) -> str:
    return " ".join(f'{k}="{escape_attribute(str(v))}"' for k, v in pairs.items())


@dataclass
class Network:
    body: bytes
    nodes: int
    devices: int
    zone_ids: dict[str, int] = field(default_factory=dict)


def synthetic_network(world: Path, nodes: int, devices: int, seed: int = 7) -> Network:
    """A ``detail`` CNML of the real zone tree (zones exactly as guifi.net exported them, so
    that they import unchanged) with ``nodes`` nodes and ``devices`` devices in it."""
    rng = random.Random(seed)
    tree = ET.parse(world).getroot()
    zones = list(tree.iter("zone"))
    shares = _shares(zones, nodes)
    extra = set(rng.sample(range(nodes), devices - nodes))
    counter = {"node": 0, "device": 0}
    out: list[str] = [
        '<?xml version="1.0"?>\n<cnml version="0.1" generated="20260101 1200">\n'
        '<class network_description="detail" mapping="y"/>\n<network>\n'
    ]

    def node_xml(zone_id: str, box: tuple[float, float, float, float]) -> Iterator[str]:
        for _ in range(shares.get(zone_id, 0)):
            n = counter["node"]
            counter["node"] += 1
            created = _date(rng)
            yield (
                "<node "
                + _attrs(
                    {
                        "id": 1_000_000 + n,
                        "title": f"Node{n}",
                        "lat": round(rng.uniform(box[1], box[3]), 6),
                        "lon": round(rng.uniform(box[0], box[2]), 6),
                        "antenna_elevation": rng.randint(2, 40),
                        "status": _pick(rng, STATUSES),
                        "created": created,
                        "updated": created,
                    }
                )
                + ">"
            )
            for _ in range(2 if n in extra else 1):
                d = counter["device"]
                counter["device"] += 1
                kind = _pick(rng, DEVICE_TYPES)
                attrs: dict[str, Any] = {
                    "id": 2_000_000 + d,
                    "title": f"Node{n}Dev{d}",
                    "type": kind,
                    "status": "Working",
                    "mainipv4": f"10.{d >> 16 & 255}.{d >> 8 & 255}.{d & 255}",
                    "created": created,
                }
                if kind in {"cloudy", "confine"}:
                    attrs.update(arch="amd64", cores=2, ram_mb=4096, disk_gb=120)
                yield f"<device {_attrs(attrs)}/>"
            yield "</node>\n"

    def zone_xml(zone: ET.Element, box: tuple[float, float, float, float]) -> Iterator[str]:
        box = _box(zone) or box
        yield f"<zone {_attrs(dict(zone.attrib))}>{escape_text(zone.text or '')}"
        yield from node_xml(zone.get("id", ""), box)
        for child in zone.findall("zone"):
            yield from zone_xml(child, box)
        yield "</zone>\n"

    root = tree.find("network/zone")
    assert root is not None
    out += zone_xml(root, _box(root) or (-10.0, 35.0, 5.0, 44.0))
    out.append("</network>\n</cnml>\n")
    return Network("".join(out).encode(), counter["node"], counter["device"])


# --- listing: the same pages over HTTP and straight on PostgreSQL ---------------------------
@dataclass
class Scenario:
    name: str
    params: dict[str, Any]
    where: str
    args: list[Any]


NODE_COLUMNS = (
    "id, external_id, name, nick, zone_id, latitude, longitude, elevation, status, owner, "
    "graph_server, description, created_at, updated_at, version"
)


def scenarios(zone_paths: dict[int, tuple[str, str]]) -> list[Scenario]:
    """Filters a map or a member would use; ``zone_paths``: guifi id -> (uuid, path)."""
    catalunya_id, catalunya = zone_paths[2413]
    barcelones_id, barcelones = zone_paths[2435]
    subtree = "n.zone_id IN (SELECT id FROM registry.zones WHERE path >= {} AND path < {})"
    return [
        Scenario(
            "subtree+status",
            {"within": catalunya_id, "status": "Working"},
            subtree.format("$1", "$2") + " AND n.status = ANY($3)",
            [catalunya, catalunya[:-1] + "0", ["Working"]],
        ),
        Scenario(
            "subtree",
            {"within": barcelones_id},
            subtree.format("$1", "$2"),
            [barcelones, barcelones[:-1] + "0"],
        ),
        Scenario(
            "bbox",
            {"bbox": "1.9,41.3,2.3,41.6"},
            "point(n.longitude, n.latitude) <@ box(point($1, $2), point($3, $4))",
            [1.9, 41.3, 2.3, 41.6],
        ),
        Scenario(
            "device_type",
            {"device_type": "cloudy"},
            "EXISTS (SELECT 1 FROM registry.devices d WHERE d.node_id = n.id AND d.type = ANY($1))",
            [["cloudy"]],
        ),
        Scenario(
            "text",
            {"q": "ode12"},
            "(n.name ILIKE $1 OR n.nick ILIKE $1)",
            ["%ode12%"],
        ),
    ]


def walk_http(
    client: httpx.Client, scenario: Scenario, pages: int, *callers: dict[str, str]
) -> list[list[float]]:
    """Each page fetched once per caller (its headers), in turns, so that every caller
    meets the same load of a shared machine; the latencies per caller."""
    callers = callers or ({},)
    latencies: list[list[float]] = [[] for _ in callers]
    url: str | None = None
    params: dict[str, Any] | None = {**scenario.params, "limit": PAGE}
    for n in range(pages):
        turn = list(enumerate(callers))
        for i, headers in turn if n % 2 == 0 else reversed(turn):
            start = time.perf_counter()
            response = client.get(url or "/api/v1/nodes", params=params, headers=headers)
            latencies[i].append((time.perf_counter() - start) * 1000)
            response.raise_for_status()
        url, params = response.links.get("next", {}).get("url"), None
        if url is None:
            break
    return latencies


async def walk_floor(conn: asyncpg.Connection, scenario: Scenario, pages: int) -> list[float]:
    latencies = []
    n = len(scenario.args)
    first = (
        f"SELECT {NODE_COLUMNS} FROM registry.nodes n WHERE {scenario.where} "
        f"ORDER BY n.created_at, n.id LIMIT {PAGE + 1}"
    )
    after = (
        f"SELECT {NODE_COLUMNS} FROM registry.nodes n WHERE {scenario.where} "
        f"AND (n.created_at, n.id) > (${n + 1}, ${n + 2}) "
        f"ORDER BY n.created_at, n.id LIMIT {PAGE + 1}"
    )
    key: tuple[Any, Any] | None = None
    for _ in range(pages):
        start = time.perf_counter()
        if key is None:
            rows = await conn.fetch(first, *scenario.args)
        else:
            rows = await conn.fetch(after, *scenario.args, *key)
        latencies.append((time.perf_counter() - start) * 1000)
        if len(rows) <= PAGE:
            break
        key = (rows[PAGE - 1]["created_at"], rows[PAGE - 1]["id"])
    return latencies


async def zone_paths(conn: asyncpg.Connection) -> dict[int, tuple[str, str]]:
    rows = await conn.fetch(
        "SELECT external_id, id, path FROM registry.zones WHERE external_id IS NOT NULL"
    )
    return {r["external_id"]: (str(r["id"]), r["path"]) for r in rows}


# --- verifying one access token -------------------------------------------------------------
async def time_verifier(samples: int = 2000) -> dict[str, float]:
    """Microseconds per ``Verifier.verify`` as a service has it (with its revocation check),
    its key set fetched beforehand: each cold sample a token not seen before (so its
    signature is checked), each cached one the same token again."""
    mint = TokenMint()
    verifier = Verifier(mint.key_set(), session_check=RevokedSessions().check)
    member = mint.member(login="bench", groups={uuid4(): {"node_admin"}}, zones={uuid4()})
    tokens = [mint.token(member) for _ in range(samples + 1)]
    await verifier.verify(tokens[-1])  # fetches the keys
    cold, cached = [], []
    for token in tokens[:samples]:
        start = time.perf_counter_ns()
        await verifier.verify(token)
        cold.append((time.perf_counter_ns() - start) / 1000)
    for _ in range(samples):
        start = time.perf_counter_ns()
        await verifier.verify(tokens[0])
        cached.append((time.perf_counter_ns() - start) / 1000)
    return {
        "auth_check_us": round(statistics.median(cold), 1),
        "auth_check_p99_us": round(percentile(cold, 0.99), 1),
        "auth_check_cached_us": round(statistics.median(cached), 1),
    }


# --- the run --------------------------------------------------------------------------------
async def measure(
    root: Path, authority: TestAuthority, nodes: int, devices: int, pages: int
) -> dict[str, Any]:
    if not WORLD.is_file():
        raise SystemExit(f"the world zones export is not at {WORLD}")
    admin_token = secrets.token_urlsafe(32)
    admin = bearer(admin_token)
    pg = PostgresServer(root / "postgres", port=free_port())
    nats_server = NatsServer(root / "nats", port=free_port())
    pg.start(log_file=root / "postgres.log")
    nats_server.start(log_file=root / "nats.log")
    proc: ServiceProcess | None = None
    try:
        pg.create_database("guificloud")
        proc = ServiceProcess(
            "guificloud_registry",
            env={
                "GUIFICLOUD_DATABASE_URL": pg.url("guificloud"),
                "GUIFICLOUD_NATS_URL": nats_server.url,
                "GUIFICLOUD_LOG_LEVEL": "warning",
                "GUIFICLOUD_IDENTITY_URL": authority.url,
                "GUIFICLOUD_ADMIN_TOKEN": admin_token,
            },
            log_dir=root,
        ).start()
        say(f"generating a network of {nodes} nodes and {devices} devices over the world tree")
        network = synthetic_network(WORLD, nodes, devices)
        say(f"synthetic detail export: {len(network.body) / 1e6:.1f} MB")
        with httpx.Client(base_url=proc.url, timeout=900) as client:

            def post(body: bytes) -> tuple[float, dict[str, Any]]:
                start = time.perf_counter()
                response = client.post(
                    "/api/v1/cnml",
                    content=body,
                    headers={**admin, "Content-Type": "application/xml"},
                )
                response.raise_for_status()
                return time.perf_counter() - start, response.json()

            zones_s, zones = post(WORLD.read_bytes())
            say(f"world zones: {zones['records']['zones']['created']} in {zones_s:.2f}s")
            bulk_s, bulk = post(network.body)
            records = bulk["records"]
            assert records["nodes"]["created"] == network.nodes, records
            assert records["devices"]["created"] == network.devices, records
            assert records["zones"]["updated"] == 0, "the real zones import unchanged"
            say(f"network: {network.nodes} nodes, {network.devices} devices in {bulk_s:.2f}s")
            again_s, again = post(network.body)
            assert again["events"] == 0, again
            say(f"same network again: nothing changed, in {again_s:.2f}s")

            conn = await asyncpg.connect(pg.url("guificloud").replace("+asyncpg", ""))
            try:
                await conn.execute("ANALYZE")
                paths = await zone_paths(conn)
                cases = scenarios(paths)
                member = authority.member(
                    login="bench-member",
                    groups={uuid4(): {"node_admin"}},
                    zones={UUID(paths[2435][0])},  # maintains Barcelonès
                )
                signed = authority.headers(member, ttl_s=3600)
                for case in cases:  # warm every path (plans, caches, connections, keys)
                    walk_http(client, case, 3, {}, signed)
                    await walk_floor(conn, case, 3)
                http_ms: list[float] = []
                auth_ms: list[float] = []
                floor_ms: list[float] = []
                for case in cases:
                    took, took_auth = walk_http(client, case, pages, {}, signed)
                    floor = await walk_floor(conn, case, pages)
                    assert len(took) == len(floor) == len(took_auth), (case.name, len(took))
                    say(
                        f"{case.name}: {len(took)} pages, p50 {statistics.median(took):.1f} ms "
                        f"(with a token {statistics.median(took_auth):.1f} ms, floor "
                        f"{statistics.median(floor):.1f} ms), max {max(took):.1f} ms"
                    )
                    http_ms += took
                    auth_ms += took_auth
                    floor_ms += floor
            finally:
                await conn.close()
    finally:
        if proc is not None:
            proc.stop()
        nats_server.stop()
        pg.stop()
    return {
        "zones_import_s": round(zones_s, 3),
        "zones": zones["records"]["zones"]["created"],
        "nodes": network.nodes,
        "devices": network.devices,
        "bulk_import_s": round(bulk_s, 2),
        "bulk_import_nodes_per_s": round(network.nodes / bulk_s),
        "reimport_s": round(again_s, 2),
        "list_samples": len(http_ms),
        "list_p50_ms": round(statistics.median(http_ms), 2),
        "list_p99_ms": round(percentile(http_ms, 0.99), 2),
        "list_p50_ms_auth": round(statistics.median(auth_ms), 2),
        "list_p99_ms_auth": round(percentile(auth_ms, 0.99), 2),
        "floor_list_p50_ms": round(statistics.median(floor_ms), 2),
        "floor_list_p99_ms": round(percentile(floor_ms, 0.99), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=50_000)
    parser.add_argument("--devices", type=int, default=60_000)
    parser.add_argument("--pages", type=int, default=60, help="Pages walked per filter.")
    args = parser.parse_args()
    if args.devices < args.nodes:
        parser.error("--devices must be at least --nodes (every node has a device)")
    with (
        tempfile.TemporaryDirectory(prefix="guificloud-bench-") as tmp,
        serving_authority() as authority,
    ):
        result = asyncio.run(measure(Path(tmp), authority, args.nodes, args.devices, args.pages))
    result.update(asyncio.run(time_verifier()))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
