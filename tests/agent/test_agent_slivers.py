"""Slivers on a box: Community-Lab's ladder up and down, resets, image overrides, removal,
all seen in the reports on the bus, next to the platform's own flow."""

from __future__ import annotations

from pathlib import Path

import pytest

from guificloud.bus import Bus
from guificloud_agent.drivers.simulated import SimulatedDriver
from guificloud_agent.platform import container_name as platform_name
from guificloud_agent.sliver_records import container_name
from tests.agent.agent_helpers import make_image, running_agent, sliver_spec, sync
from tests.agent.agent_peer import Peer

pytestmark = pytest.mark.integration


async def _containers(tmp_path: Path) -> dict[str, str]:
    """What the simulated driver holds on the box: container name -> state."""
    driver = SimulatedDriver(tmp_path / "state")
    return {name: c.state for name, c in driver._containers.items()}


async def test_the_ladder_up_and_down_beside_the_platform(
    peer: Peer, bus: Bus, reports, tmp_path: Path
) -> None:
    config = peer.add_box()
    distro = peer.put_blob(make_image(32 * 1024))
    peer.want(config.box_id, distro)
    image = peer.put_blob(make_image(32 * 1024))
    sliver = sliver_spec(image, "deploy", memory_mb=128, disk_mb=100, cpu_share=0.5)
    peer.want_slivers(config.box_id, [sliver])
    watch = await reports(config)
    name = container_name(sliver.sliver_id, 0)
    assert name == f"sliver-{sliver.sliver_id.hex[:12]}-0"

    async with running_agent(config, tmp_path, resync_interval_s=300):
        deployed = await watch.sliver(sliver.sliver_id, "deployed")
        await watch.state("running", distro_digest=distro.digest)
        assert (deployed.image_digest, deployed.reason) == (image.digest, None)
        containers = await _containers(tmp_path)
        assert containers == {name: "stopped", platform_name(distro.digest): "running"}
        limits = SimulatedDriver(tmp_path / "state")._containers[name].limits
        assert limits == {"memory_mb": 128, "disk_mb": 100, "cpus": 0.5}

        for set_state, actual, container in (
            ("start", "started", "running"),
            ("deploy", "deployed", "stopped"),
            ("register", "registered", None),
        ):
            wanted = sliver.model_copy(update={"set_state": set_state})
            desired = peer.want_slivers(config.box_id, [wanted])
            await sync(bus, config.box_id, desired.generation)
            await watch.sliver(sliver.sliver_id, actual, since=len(watch.seen))
            assert (await _containers(tmp_path)).get(name) == container

    assert watch.sliver_changes(sliver.sliver_id) == [
        ("allocated", 0),
        ("deployed", 0),
        ("started", 0),
        ("deployed", 0),
        ("registered", 0),
    ]
    platform = [r.state for r in watch.seen]
    assert [s for i, s in enumerate(platform) if i == 0 or platform[i - 1] != s] == [
        "deploying",
        "running",
    ], "the platform's reports are as before; slivers only add their own"


async def test_a_reset_redeploys_and_a_sliver_may_run_its_own_image(
    peer: Peer, bus: Bus, reports, tmp_path: Path
) -> None:
    config = peer.add_box()
    image = peer.put_blob(make_image(16 * 1024))
    own = peer.put_blob(make_image(16 * 1024))
    first = sliver_spec(image, "start")
    second = sliver_spec(own, "start", slice_id=first.slice_id)
    peer.want_slivers(config.box_id, [first, second])
    watch = await reports(config)

    async with running_agent(config, tmp_path, resync_interval_s=300):
        await watch.sliver(first.sliver_id, "started", image_digest=image.digest)
        await watch.sliver(second.sliver_id, "started", image_digest=own.digest)

        reset = first.model_copy(update={"instance": 1})
        overridden = second.model_copy(update={"image": image})
        desired = peer.want_slivers(config.box_id, [reset, overridden])
        await sync(bus, config.box_id, desired.generation)
        await watch.sliver(first.sliver_id, "started", instance=1)
        await watch.sliver(second.sliver_id, "started", image_digest=image.digest)
        containers = await _containers(tmp_path)

    assert containers == {
        container_name(first.sliver_id, 1): "running",
        container_name(second.sliver_id, 0): "running",
    }, "the old instance's container is gone"
    assert watch.sliver_changes(first.sliver_id)[-4:] == [
        ("started", 0),
        ("allocated", 1),
        ("deployed", 1),
        ("started", 1),
    ]
    driver = SimulatedDriver(tmp_path / "state")
    made_from = driver._containers[container_name(second.sliver_id, 0)].image
    assert made_from.endswith(image.digest.removeprefix("sha256:")), "remade from the new image"
    blobs = sorted(p.name for p in (tmp_path / "blobs" / "sha256").iterdir())
    assert blobs == [image.digest.removeprefix("sha256:")], "the image no sliver uses is dropped"


async def test_two_slivers_of_one_image_download_it_once_and_a_removed_one_goes(
    peer: Peer, bus: Bus, reports, tmp_path: Path
) -> None:
    config = peer.add_box()
    image = peer.put_blob(make_image(256 * 1024))
    kept = sliver_spec(image, "start")
    dropped = sliver_spec(image, "start")
    peer.want_slivers(config.box_id, [kept, dropped])
    watch = await reports(config)

    async with running_agent(config, tmp_path, resync_interval_s=300):
        await watch.sliver(kept.sliver_id, "started")
        await watch.sliver(dropped.sliver_id, "started")
        assert peer.ranges(image) == [None], "one download for both slivers"

        desired = peer.want_slivers(config.box_id, [kept])
        since = len(watch.seen)
        await sync(bus, config.box_id, desired.generation)
        gone = await watch.until(
            lambda r: [s.sliver_id for s in r.slivers] == [kept.sliver_id], since=since
        )
    assert gone.slivers[0].state == "started"
    assert watch.sliver_changes(dropped.sliver_id)[-2:] == [("started", 0), None]
    assert await _containers(tmp_path) == {container_name(kept.sliver_id, 0): "running"}
    assert peer.ranges(image) == [None]
