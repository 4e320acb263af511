"""Enrolling simulated boxes through the real registry, as a member would, then waiting for
their configuration (served here by the HTTP peer, which checks the devices with the registry)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from guificloud.testing.processes import ServiceProcess
from guificloud_agent.enroll import ZONE_NAME, enroll_simulated_boxes
from guificloud_agent.fleet import load_fleet, save_fleet
from tests.agent.agent_peer import ADMIN_TOKEN, Peer

pytestmark = pytest.mark.integration


@pytest.fixture
def registry(nats_url: str, database_url: str, tmp_path: Path) -> Iterator[ServiceProcess]:
    process = ServiceProcess(
        "guificloud_registry",
        log_dir=tmp_path,
        env={
            "GUIFICLOUD_NATS_URL": nats_url,
            "GUIFICLOUD_DATABASE_URL": database_url,
            "GUIFICLOUD_ENVIRONMENT": "test",
            "GUIFICLOUD_ADMIN_TOKEN": ADMIN_TOKEN,
        },
    )
    process.start()
    try:
        yield process
    finally:
        process.stop()


async def test_enrolls_boxes_through_the_registry(
    nats_url: str, registry: ServiceProcess, tmp_path: Path
) -> None:
    peer = Peer(nats_url, registry_url=registry.url).start()
    try:
        first = await enroll_simulated_boxes(
            3, registry.url, peer.url, ADMIN_TOKEN, poll_interval_s=0.05, timeout_s=30
        )
        second = await enroll_simulated_boxes(
            1, registry.url, peer.url, ADMIN_TOKEN, poll_interval_s=0.05, timeout_s=30
        )
    finally:
        peer.stop()

    configs = first + second
    assert len({c.box_id for c in configs}) == 4
    assert all(peer.config_polls[c.box_id] >= 2 for c in configs), "404 until configured"
    async with httpx.AsyncClient(base_url=registry.url) as http:
        zones = [z for z in (await http.get("/api/v1/zones")).json() if z["name"] == ZONE_NAME]
        assert len(zones) == 1, "a second enrolment reuses the zone"
        nodes = (await http.get("/api/v1/nodes", params={"zone_id": zones[0]["id"]})).json()
        assert len(nodes) == 4 and all(n["status"] == "Working" for n in nodes)
        assert all(
            abs(n["latitude"] - 41.9) < 0.5 and abs(n["longitude"] - 2.2) < 0.5 for n in nodes
        )
        for config in configs:
            device = (await http.get(f"/api/v1/devices/{config.box_id}")).json()
            assert device["type"] == "cloudy" and device["hardware"]["arch"] == "amd64"

    save_fleet(tmp_path, configs)
    assert load_fleet(tmp_path) == configs
