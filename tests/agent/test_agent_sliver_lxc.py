"""Slivers as real LXC containers: two slivers of one slice run on one box within their
limits, answer a command, and leave nothing behind once the slice goes back to register.

Needs a host where LXC can start containers; a session-wide probe really starts one, and
where that fails the test is skipped with the probe's reason.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from guificloud import signing
from guificloud.bus import Bus
from guificloud_agent.drivers.lxc import LxcDriver
from guificloud_agent.drivers.lxc_config import unified_cgroups
from guificloud_agent.drivers.subprocesses import run
from guificloud_agent.sliver_records import container_name
from tests.agent.agent_helpers import running_agent, sliver_spec, sync
from tests.agent.agent_peer import Peer
from tests.agent.lxc_helpers import busybox_rootfs, clear

pytestmark = [pytest.mark.lxc, pytest.mark.integration]

MIB = 1024 * 1024


@pytest_asyncio.fixture
async def driver(tmp_path: Path, busybox: Path) -> AsyncIterator[LxcDriver]:
    lxc = LxcDriver(tmp_path / "state", tmp_path / "lxc", stop_timeout_s=5)
    try:
        yield lxc
    finally:
        await clear(lxc.lxc_path)


async def _memory_limit(driver: LxcDriver, name: str) -> int:
    key = "memory.max" if unified_cgroups() else "memory.limit_in_bytes"
    argv = ["lxc-cgroup", "--name", name, "--lxcpath", str(driver.lxc_path), key]
    return int((await run(argv, timeout_s=10)).out)


async def test_two_slivers_run_as_containers_and_go_on_register(
    peer: Peer, bus: Bus, reports, driver: LxcDriver, busybox: Path, tmp_path: Path
) -> None:
    private, public = signing.generate_key()
    config = peer.add_box()
    peer.trust(config.box_id, public)
    image = peer.put_blob(busybox_rootfs(busybox), signer=private)
    first = sliver_spec(image, "start", memory_mb=64, disk_mb=24, cpu_share=0.5)
    second = sliver_spec(image, "start", memory_mb=96, disk_mb=32, slice_id=first.slice_id)
    peer.want_slivers(config.box_id, [first, second])
    watch = await reports(config)

    async with running_agent(config, tmp_path / "cache", driver=driver, resync_interval_s=300):
        for sliver in (first, second):
            await watch.sliver(sliver.sliver_id, "started")
            name = container_name(sliver.sliver_id, 0)
            answer = await driver.attach(name, ["/bin/busybox", "hostname"])
            assert (answer.code, answer.out) == (0, f"{name}\n")
            assert await _memory_limit(driver, name) == sliver.memory_mb * MIB
            df = await driver.attach(name, ["/bin/busybox", "df", "-m", "/"])
            assert int(df.out.splitlines()[1].split()[1]) <= sliver.disk_mb
        assert sorted(await driver.names()) == sorted(
            container_name(s.sliver_id, 0) for s in (first, second)
        )
        assert peer.ranges(image) == [None], "one download for both"

        down = [s.model_copy(update={"set_state": "register"}) for s in (first, second)]
        desired = peer.want_slivers(config.box_id, down)
        since = len(watch.seen)
        await sync(bus, config.box_id, desired.generation)
        await watch.until(
            lambda r: sorted(s.state for s in r.slivers) == ["registered", "registered"],
            since=since,
        )
        assert await driver.names() == []
        assert list(driver.lxc_path.iterdir()) == []
    assert str(driver.lxc_path) not in (await run(["losetup", "-l", "-n"], timeout_s=10)).out
