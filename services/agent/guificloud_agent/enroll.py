"""Enrolling simulated boxes the way a member would: a node and a cloud device each, through
the registry's API; then waiting for the provisioner to configure them.

Bounded concurrency (``concurrency`` requests at a time) keeps 500 boxes from opening 500
connections at once. The box id is the device id. Each creating POST carries an
``Idempotency-Key`` and is retried while the registry is briefly away, so a retry never
makes a second node or box.
"""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from guificloud.boxes import BoxConfig
from guificloud.logging import get_logger
from guificloud.retries import Backoff
from guificloud_agent.httpclient import http_client

log = get_logger(__name__)

ZONE_NAME = "Simulated fleet"
CENTRE = (41.9, 2.2)
RADIUS_DEG = 0.3
HARDWARE = {"arch": "amd64", "cores": 2, "ram_mb": 4096, "disk_gb": 120}


class EnrollmentError(RuntimeError):
    """The registry or the provisioner refused; the message says which and why."""


def spot(i: int, n: int) -> tuple[float, float]:
    """Coordinates of box ``i`` of ``n``: a sunflower spiral around Vic-Osona."""
    r = RADIUS_DEG * math.sqrt((i + 0.5) / max(n, 1))
    angle = i * math.pi * (3 - math.sqrt(5))
    return round(CENTRE[0] + r * math.sin(angle), 6), round(CENTRE[1] + r * math.cos(angle), 6)


async def enroll_simulated_boxes(
    n: int,
    registry_url: str,
    provisioner_url: str,
    admin_token: str,
    *,
    concurrency: int = 32,
    timeout_s: float = 300.0,
    poll_interval_s: float = 0.2,
    zone_name: str = ZONE_NAME,
    ca: Path | None = None,
) -> list[BoxConfig]:
    """Create ``n`` cloud boxes and return their configurations once the provisioner has them."""
    gate = asyncio.Semaphore(concurrency)
    registry = registry_url.rstrip("/")
    auth = {"Authorization": f"Bearer {admin_token}"}
    run = uuid.uuid4().hex[:6]
    async with http_client(backoff=Backoff(), ca=ca) as http:
        zone_id = await _zone(http, registry, zone_name, auth)

        async def add_box(i: int) -> str:
            lat, lon = spot(i, n)
            async with gate:
                node = await _post(
                    http,
                    f"{registry}/api/v1/nodes",
                    auth,
                    {
                        "name": f"sim-{run}-{i:04d}",
                        "zone_id": zone_id,
                        "latitude": lat,
                        "longitude": lon,
                        "status": "Working",
                    },
                )
                device = await _post(
                    http,
                    f"{registry}/api/v1/nodes/{node['id']}/devices",
                    auth,
                    {"name": f"sim-{run}-{i:04d}-box", "type": "cloudy", "hardware": HARDWARE},
                )
            return str(device["id"])

        device_ids = await asyncio.gather(*(add_box(i) for i in range(n)))
        log.info("fleet.enrolled", boxes=n, zone_id=zone_id)
        deadline = time.monotonic() + timeout_s
        configs = await asyncio.gather(
            *(
                _await_config(
                    http, provisioner_url.rstrip("/"), d, auth, gate, deadline, poll_interval_s
                )
                for d in device_ids
            )
        )
    log.info("fleet.configured", boxes=n)
    return list(configs)


async def _zone(http: httpx.AsyncClient, registry: str, name: str, auth: dict[str, str]) -> str:
    """The zone of that name if the registry has one, else a new one."""
    response = await http.get(f"{registry}/api/v1/zones", headers=auth)
    if response.status_code == 200:
        for zone in response.json():
            if zone.get("name") == name:
                return str(zone["id"])
    return str((await _post(http, f"{registry}/api/v1/zones", auth, {"name": name}))["id"])


async def _post(
    http: httpx.AsyncClient, url: str, auth: dict[str, str], body: dict[str, Any]
) -> dict[str, Any]:
    try:
        response = await http.post(url, json=body, headers=auth)
    except httpx.HTTPError as exc:
        raise EnrollmentError(f"registry unreachable at {url}: {exc!r}") from exc
    if response.status_code != 201:
        raise EnrollmentError(
            f"registry refused POST {url}: {response.status_code} {response.text[:300]}"
        )
    result: dict[str, Any] = response.json()
    return result


async def _await_config(
    http: httpx.AsyncClient,
    provisioner: str,
    box_id: str,
    auth: dict[str, str],
    gate: asyncio.Semaphore,
    deadline: float,
    poll_interval_s: float,
) -> BoxConfig:
    """Poll until the provisioner has configured the box (404 until then)."""
    url = f"{provisioner}/api/v1/boxes/{box_id}/config"
    last = "no answer"
    while time.monotonic() < deadline:
        async with gate:
            try:
                response = await http.get(url, headers=auth)
            except httpx.HTTPError as exc:
                response, last = None, f"unreachable: {exc!r}"
        if response is not None:
            if response.status_code == 200:
                return BoxConfig.model_validate_json(response.content)
            if response.status_code in (401, 403):
                raise EnrollmentError(f"provisioner refused the admin token ({url})")
            last = f"{response.status_code}"
        await asyncio.sleep(poll_interval_s)
    raise EnrollmentError(f"box {box_id} not configured by the provisioner in time: {last}")
