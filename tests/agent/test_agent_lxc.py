"""Real LXC containers: the lxc driver's life cycle and limits, and the agent running its
platform on it, from the library and from the command line.

Every test here needs a host where LXC can start containers (root, the ``lxc`` and
``busybox-static`` packages); a session-wide probe really starts one, and where that fails
every test is skipped with the probe's reason.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from guificloud import signing
from guificloud_agent.drivers.base import DriverError, Limits
from guificloud_agent.drivers.lxc import LxcDriver
from guificloud_agent.drivers.lxc_config import unified_cgroups
from guificloud_agent.drivers.subprocesses import run
from guificloud_agent.platform import container_name
from tests.agent.agent_helpers import TIMEOUT_S, running_agent
from tests.agent.agent_peer import Peer
from tests.agent.lxc_helpers import busybox_rootfs, clear

pytestmark = [pytest.mark.lxc, pytest.mark.integration]

LIMITS = Limits(memory_mb=64, disk_mb=24, cpus=0.5)
MIB = 1024 * 1024


@pytest_asyncio.fixture
async def driver(tmp_path: Path, busybox: Path) -> AsyncIterator[LxcDriver]:
    lxc = LxcDriver(tmp_path / "state", tmp_path / "lxc", stop_timeout_s=5)
    try:
        yield lxc
    finally:
        await clear(lxc.lxc_path)


def _image(tmp_path: Path, busybox: Path, name: str = "rootfs.tar.gz", **kwargs: int) -> Path:
    path = tmp_path / name
    path.write_bytes(busybox_rootfs(busybox, **kwargs))
    return path


async def _loop_devices() -> str:
    return (await run(["losetup", "--list", "--noheadings"], timeout_s=10)).out


def _names(driver: LxcDriver, name: str) -> list[str]:
    return ["--name", name, "--lxcpath", str(driver.lxc_path)]


async def _memory_limit(driver: LxcDriver, name: str) -> int:
    key = "memory.max" if unified_cgroups() else "memory.limit_in_bytes"
    return int((await run(["lxc-cgroup", *_names(driver, name), key], timeout_s=10)).out)


async def _init_pid(driver: LxcDriver, name: str) -> int | None:
    """The host PID of the container's init; ``None`` while it is not running."""
    argv = ["lxc-info", *_names(driver, name), "--pid", "--no-humanize"]
    out = (await run(argv, timeout_s=10)).out.strip()
    return int(out) if out else None


async def test_a_container_runs_within_its_limits_and_leaves_nothing_behind(
    driver: LxcDriver, busybox: Path, tmp_path: Path
) -> None:
    await driver.create("c1", _image(tmp_path, busybox), LIMITS)
    assert await driver.state("c1") == "stopped"
    await driver.start("c1")
    assert await driver.state("c1") == "running"
    assert await driver.names() == ["c1"]

    hello = await driver.attach("c1", ["/bin/busybox", "echo", "hello"])
    assert (hello.code, hello.out) == (0, "hello\n")
    assert await _memory_limit(driver, "c1") == LIMITS.memory_mb * MIB
    df = await driver.attach("c1", ["/bin/busybox", "df", "-m", "/"])
    assert int(df.out.splitlines()[1].split()[1]) <= LIMITS.disk_mb
    fill = await driver.attach(
        "c1", ["/bin/busybox", "dd", "if=/dev/zero", "of=/fill", "bs=1M", "count=64"]
    )
    assert fill.code != 0 and "No space left on device" in fill.err

    await driver.stop("c1")
    assert await driver.state("c1") == "stopped"
    await driver.start("c1")  # a stopped container starts again, disk and all
    assert (await driver.attach("c1", ["/bin/busybox", "test", "-f", "/fill"])).code == 0
    await driver.stop("c1")
    await driver.destroy("c1")
    assert await driver.state("c1") == "absent"
    assert not (driver.lxc_path / "c1").exists()
    assert await driver.names() == []
    assert str(driver.lxc_path) not in await _loop_devices()


async def test_without_a_disk_limit_the_rootfs_is_a_directory(
    driver: LxcDriver, busybox: Path, tmp_path: Path
) -> None:
    await driver.create("plain", _image(tmp_path, busybox), Limits(memory_mb=32))
    assert (driver.lxc_path / "plain" / "rootfs" / "bin" / "busybox").is_file()
    await driver.start("plain")
    assert (await driver.attach("plain", ["/bin/busybox", "hostname"])).out == "plain\n"
    with pytest.raises(DriverError, match="running; stop it first"):
        await driver.destroy("plain")
    await driver.stop("plain")
    await driver.destroy("plain")
    assert list(driver.lxc_path.iterdir()) == []


async def test_images_that_cannot_run_are_refused_and_leave_nothing(
    driver: LxcDriver, busybox: Path, tmp_path: Path
) -> None:
    too_big = _image(tmp_path, busybox, "big.tar.gz", padding=32 * MIB)
    with pytest.raises(DriverError, match="more than the disk limit of 24 MB"):
        await driver.create("big", too_big, LIMITS)
    no_init = _image(tmp_path, busybox, "noinit.tar.gz", init=0)
    with pytest.raises(DriverError, match="image has no /sbin/init"):
        await driver.create("noinit", no_init, LIMITS)
    assert list(driver.lxc_path.iterdir()) == []

    # An init that is there but cannot run: LXC's own reason comes back.
    broken = tmp_path / "broken.tar.gz"
    broken.write_bytes(busybox_rootfs(Path("/etc/hostname")))  # busybox that is not a binary
    await driver.create("broken", broken, LIMITS)
    with pytest.raises(DriverError, match="container broken did not start: .+"):
        await driver.start("broken")
    assert await driver.state("broken") == "stopped"
    await driver.destroy("broken")
    assert list(driver.lxc_path.iterdir()) == []


async def test_the_agent_runs_its_platform_in_a_container(
    peer: Peer, reports, driver: LxcDriver, busybox: Path, tmp_path: Path
) -> None:
    private, public = signing.generate_key()
    config = peer.add_box()
    peer.trust(config.box_id, public)
    first = peer.put_blob(busybox_rootfs(busybox), signer=private, arch="amd64")
    peer.want(config.box_id, first)
    watch = await reports(config)
    limits = Limits(memory_mb=128, disk_mb=32)

    async with running_agent(
        config, tmp_path / "cache", driver=driver, resync_interval_s=0.5, platform_limits=limits
    ) as agent:
        running = await watch.state("running", distro_digest=first.digest)
        assert running.driver == "lxc"
        name = container_name(first.digest)
        answer = await driver.attach(name, ["/bin/busybox", "echo", "hello"])
        assert answer.out == "hello\n"

        # The container dies behind the agent's back: a resync starts it again.
        before = await _init_pid(driver, name)
        await run(["lxc-stop", "--kill", *_names(driver, name)], timeout_s=30)
        for _ in range(200):
            pid = await _init_pid(driver, name)
            if pid not in (None, before):
                break
            await asyncio.sleep(0.05)
        assert await driver.state(name) == "running"
        assert await _init_pid(driver, name) not in (None, before)

        second = peer.put_blob(busybox_rootfs(busybox, padding=1024), signer=private)
        peer.want(config.box_id, second)
        await watch.state("running", distro_digest=second.digest)
        assert await driver.names() == [container_name(second.digest)]

        peer.want(config.box_id, None)
        await watch.state("idle")
        assert await driver.names() == []
        assert list(driver.lxc_path.iterdir()) == []
        assert agent.status is not None and agent.status.state == "idle"


async def test_the_command_line_agent_runs_on_lxc(
    peer: Peer, reports, busybox: Path, tmp_path: Path
) -> None:
    config = peer.add_box()
    spec = peer.put_blob(busybox_rootfs(busybox))
    peer.want(config.box_id, spec)
    (tmp_path / "box.json").write_text(config.model_dump_json())
    lxc_path = tmp_path / "containers"
    watch = await reports(config)
    log_file = tmp_path / "agent.log"
    try:
        with log_file.open("wb") as out:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "guificloud_agent",
                "run",
                f"--config={tmp_path / 'box.json'}",
                f"--cache-dir={tmp_path / 'cache'}",
                "--driver=lxc",
                f"--lxc-path={lxc_path}",
                "--platform-memory=64",
                "--platform-disk=16",
                "--log-format=json",
                stdout=out,
            )
            try:
                report = await watch.state("running", distro_digest=spec.digest)
            finally:
                process.send_signal(signal.SIGTERM)
                code = await asyncio.wait_for(process.wait(), TIMEOUT_S)
        assert report.driver == "lxc" and code == 0, log_file.read_text()[-3000:]
        # The platform outlives its agent (an agent upgrade does not take the box down).
        lxc = LxcDriver(tmp_path, lxc_path)
        name = container_name(spec.digest)
        assert await lxc.state(name) == "running"
        assert (await lxc.attach(name, ["/bin/busybox", "echo", "hello"])).out == "hello\n"
        await lxc.stop(name)
        await lxc.destroy(name)
        assert await lxc.names() == [] and list(lxc_path.iterdir()) == []
    finally:
        await clear(lxc_path)
