"""An agent that restarts finds its slivers as they were: running ones are adopted, not
restarted, and it still knows them well enough to take them down."""

from __future__ import annotations

from pathlib import Path

import pytest

from guificloud.bus import Bus
from guificloud_agent.drivers.simulated import STATE_FILE, SimulatedDriver
from guificloud_agent.sliver_records import container_name
from tests.agent.agent_helpers import eventually, make_image, running_agent, sliver_spec, sync
from tests.agent.agent_peer import Peer

pytestmark = pytest.mark.integration


async def test_a_restarted_agent_adopts_its_running_slivers(
    peer: Peer, bus: Bus, reports, tmp_path: Path
) -> None:
    config = peer.add_box()
    image = peer.put_blob(make_image(16 * 1024))
    started = [sliver_spec(image, "start"), sliver_spec(image, "start")]
    deployed = sliver_spec(image, "deploy")
    peer.want_slivers(config.box_id, [*started, deployed])
    watch = await reports(config)

    async with running_agent(config, tmp_path, resync_interval_s=300):
        for sliver in started:
            await watch.sliver(sliver.sliver_id, "started")
        await watch.sliver(deployed.sliver_id, "deployed")
    containers = tmp_path / "state" / STATE_FILE
    before = (containers.read_bytes(), containers.stat().st_mtime_ns)

    since = len(watch.seen)
    async with running_agent(config, tmp_path, resync_interval_s=0.2) as agent:
        first = await watch.until(lambda r: True, since=since)
        await eventually(
            lambda: agent.last_trigger is not None and agent.last_trigger.reason == "periodic"
        )
        assert (containers.read_bytes(), containers.stat().st_mtime_ns) == before, (
            "no container was stopped, started or made again"
        )

        desired = peer.want_slivers(config.box_id, [started[0]])
        await sync(bus, config.box_id, desired.generation)
        await watch.until(lambda r: len(r.slivers) == 1, since=since)

    states = {s.sliver_id: s.state for s in first.slivers}
    assert states == {
        started[0].sliver_id: "started",
        started[1].sliver_id: "started",
        deployed.sliver_id: "deployed",
    }, "the first report after the restart already says what runs"
    for report in watch.seen[since:]:
        assert all(states[s.sliver_id] == s.state for s in report.slivers), report.slivers
    driver = SimulatedDriver(tmp_path / "state")
    assert await driver.state(container_name(started[0].sliver_id, 0)) == "running"
    assert await driver.state(container_name(started[1].sliver_id, 0)) == "absent"
    assert await driver.state(container_name(deployed.sliver_id, 0)) == "absent"
    assert peer.ranges(image) == [None]


async def test_register_destroys_a_container_whose_record_was_lost(
    peer: Peer, bus: Bus, reports, tmp_path: Path
) -> None:
    config = peer.add_box()
    sliver = sliver_spec(peer.put_blob(make_image(16 * 1024)), "start")
    peer.want_slivers(config.box_id, [sliver])
    watch = await reports(config)
    async with running_agent(config, tmp_path, resync_interval_s=300):
        await watch.sliver(sliver.sliver_id, "started")
    (tmp_path / "state" / "slivers.json").unlink()
    peer.want_slivers(config.box_id, [sliver.model_copy(update={"set_state": "register"})])

    since = len(watch.seen)
    async with running_agent(config, tmp_path, resync_interval_s=300):
        await watch.sliver(sliver.sliver_id, "registered", since=since)
    driver = SimulatedDriver(tmp_path / "state")
    assert await driver.state(container_name(sliver.sliver_id, 0)) == "absent"
