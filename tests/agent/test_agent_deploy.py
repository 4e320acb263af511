"""An agent deploys its desired image, heartbeats, and redeploys on a sync command."""

from __future__ import annotations

from pathlib import Path

import psutil
import pytest

from guificloud.bus import Bus
from guificloud.events.agent import Heartbeat
from guificloud.events.envelope import Envelope
from guificloud.events.provisioner import BoxSync
from guificloud_agent.drivers.simulated import SimulatedDriver
from guificloud_agent.platform import container_name
from tests.agent.agent_helpers import TIMEOUT_S, eventually, make_image, running_agent
from tests.agent.agent_peer import Peer

pytestmark = pytest.mark.integration


async def test_deploys_the_image_and_keeps_it_across_restarts(
    peer: Peer, reports, tmp_path: Path
) -> None:
    config = peer.add_box()
    image = make_image(128 * 1024)
    spec = peer.put_blob(image)
    desired = peer.want(config.box_id, spec)
    watch = await reports(config)

    async with running_agent(config, tmp_path):
        running = await watch.state("running")
    assert watch.changes() == [
        ("deploying", desired.generation, spec.digest),
        ("running", desired.generation, spec.digest),
    ]
    assert running.driver == "simulated" and running.reason is None
    assert watch.envelopes[0].source == f"agent.{config.box_id}"

    blob = tmp_path / "blobs" / "sha256" / spec.digest.removeprefix("sha256:")
    assert blob.read_bytes() == image
    assert list(blob.parent.glob("*.partial")) == []
    driver = SimulatedDriver(tmp_path / "state")
    assert await driver.state(container_name(spec.digest)) == "running"

    before = len(watch.seen)
    async with running_agent(config, tmp_path):
        await watch.until(lambda r: len(watch.seen) > before)
    assert watch.seen[before].state == "running", "a restarted agent finds its platform running"
    assert peer.ranges(spec) == [None], "the cached image is not downloaded again"


async def test_heartbeats_carry_real_metrics(peer: Peer, bus: Bus, tmp_path: Path) -> None:
    config = peer.add_box()
    sub = await bus.nc.subscribe(f"agent.{config.box_id}.heartbeat")
    async with running_agent(config, tmp_path):
        beats = []
        for _ in range(3):
            msg = await sub.next_msg(timeout=TIMEOUT_S)
            envelope = Envelope.model_validate_json(msg.data)
            assert envelope.type == Heartbeat.TYPE
            beats.append(Heartbeat.model_validate(envelope.data))
    await sub.unsubscribe()

    seqs = [b.seq for b in beats]
    assert seqs == sorted(seqs) and len(set(seqs)) == 3
    assert all(b.box_id == config.box_id and b.interval_s == 0.2 for b in beats)
    metrics = beats[-1].metrics
    assert metrics.mem_total_mb == psutil.virtual_memory().total // (1024 * 1024)
    assert 0 < metrics.mem_used_mb <= metrics.mem_total_mb
    assert 0 < metrics.disk_used_gb <= metrics.disk_total_gb
    assert metrics.uptime_s > 0 and metrics.load1 >= 0


async def test_sync_command_redeploys_and_garbage_is_ignored(
    peer: Peer, bus: Bus, reports, tmp_path: Path
) -> None:
    config = peer.add_box()
    first = peer.put_blob(make_image(32 * 1024))
    peer.want(config.box_id, first)
    watch = await reports(config)

    async with running_agent(config, tmp_path, resync_interval_s=300) as agent:
        await watch.state("running", distro_digest=first.digest)
        await eventually(
            lambda: agent.last_trigger is not None and agent.last_trigger.reason == "connect"
        )  # settled: only a sync now
        await bus.nc.publish(f"box.{config.box_id}.sync", b"\xffnot json")
        await bus.nc.publish(
            f"box.{config.box_id}.sync",
            Envelope.wrap(BoxSync(box_id=config.box_id, generation=1), source="test")
            .model_copy(update={"type": "box.unknown.requested"})
            .model_dump_json()
            .encode(),
        )

        second = peer.put_blob(make_image(32 * 1024))
        desired = peer.want(config.box_id, second)
        command = BoxSync(box_id=config.box_id, generation=desired.generation)
        envelope = Envelope.wrap(command, source="provisioner", correlation_id="flow-42")
        await bus.publish(command.subject(), envelope)

        await watch.state("running", distro_digest=second.digest, generation=desired.generation)
        assert agent.status is not None and agent.status.state == "running"
    assert watch.changes()[-2:] == [
        ("deploying", desired.generation, second.digest),
        ("running", desired.generation, second.digest),
    ]
    assert {e.correlation_id for e in watch.envelopes[-2:]} == {"flow-42"}
    assert watch.envelopes[-1].causation_id == str(envelope.id)
    driver = SimulatedDriver(tmp_path / "state")
    assert await driver.state(container_name(second.digest)) == "running"
    assert await driver.state(container_name(first.digest)) == "absent"
    blobs = tmp_path / "blobs" / "sha256"
    assert [p.name for p in blobs.iterdir()] == [second.digest.removeprefix("sha256:")], (
        "the image of the replaced platform is pruned"
    )
