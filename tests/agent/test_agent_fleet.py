"""Many agents in one process: each its own connection and cache, all reaching running."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from guificloud.bus import Bus
from guificloud_agent.drivers.simulated import SimulatedDriver
from guificloud_agent.fleet import run_agents
from tests.agent.agent_helpers import TIMEOUT_S, make_image
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
