"""Many agents in one process: each its own connection, its own or a shared blob cache."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from guificloud.bus import Bus
from guificloud_agent.drivers.simulated import SimulatedDriver
from guificloud_agent.fleet import run_agents
from tests.agent.agent_helpers import TIMEOUT_S, make_image, sliver_spec
from tests.agent.agent_peer import Peer

pytestmark = pytest.mark.integration


async def test_two_agents_in_one_process_both_run(
    peer: Peer, bus: Bus, reports, tmp_path: Path
) -> None:
    configs = [peer.add_box(), peer.add_box()]
    spec = peer.put_blob(make_image(32 * 1024))
    watches = []
    for config in configs:
        peer.want(config.box_id, spec)
        watches.append(await reports(config))
    beats = await bus.nc.subscribe("agent.*.heartbeat")

    stop = asyncio.Event()
    fleet = asyncio.create_task(
        run_agents(configs, driver_factory=SimulatedDriver, cache_root=tmp_path, stop=stop)
    )
    try:
        for watch in watches:
            await watch.state("running", distro_digest=spec.digest)
        seen: set[str] = set()
        while len(seen) < 2:
            seen.add((await beats.next_msg(timeout=TIMEOUT_S)).subject)
    finally:
        stop.set()
        await asyncio.wait_for(fleet, TIMEOUT_S)
        await beats.unsubscribe()

    assert seen == {f"agent.{c.box_id}.heartbeat" for c in configs}
    for config in configs:
        blob = tmp_path / str(config.box_id) / "blobs" / "sha256" / spec.digest[7:]
        assert blob.is_file()
    assert len(peer.ranges(spec)) == 2, "each box downloads into its own cache"


async def test_a_fleet_sharing_one_blob_cache_downloads_each_image_once(
    peer: Peer, reports, tmp_path: Path
) -> None:
    configs = [peer.add_box() for _ in range(30)]
    distro = peer.put_blob(make_image(32 * 1024))
    image = peer.put_blob(make_image(32 * 1024))
    watches, slivers = [], {}
    for config in configs:
        peer.want(config.box_id, distro)
        slivers[config.box_id] = [
            sliver_spec(image, "start", memory_mb=64),
            sliver_spec(image, "deploy", memory_mb=100),
        ]
        peer.want_slivers(config.box_id, slivers[config.box_id])
        watches.append(await reports(config))

    stop = asyncio.Event()
    fleet = asyncio.create_task(
        run_agents(
            configs,
            driver_factory=SimulatedDriver,
            cache_root=tmp_path,
            stop=stop,
            share_blobs=True,
            host_memory_mb=1100,
            host_disk_mb=10_000,
        )
    )
    try:
        for config, watch in zip(configs, watches, strict=True):
            await watch.state("running", distro_digest=distro.digest)
            started, deployed = slivers[config.box_id]
            await watch.sliver(started.sliver_id, "started")
            await watch.sliver(deployed.sliver_id, "fail_allocate")  # 1100 - 1024 - 64 < 100
    finally:
        stop.set()
        await asyncio.wait_for(fleet, TIMEOUT_S)

    assert peer.ranges(distro) == [None] and peer.ranges(image) == [None]
    shared = tmp_path / "blobs" / "sha256"
    assert {p.name for p in shared.iterdir()} == {distro.digest[7:], image.digest[7:]}
    assert not any((tmp_path / str(c.box_id) / "blobs").exists() for c in configs)
