"""The simulated driver's state machine, and the platform container on top of it."""

from __future__ import annotations

from pathlib import Path

import pytest

from guificloud_agent.drivers.base import DriverError, Limits
from guificloud_agent.drivers.simulated import SimulatedDriver
from guificloud_agent.failures import DeployFailed
from guificloud_agent.platform import Platform, container_name
from tests.agent.agent_helpers import make_image

pytestmark = pytest.mark.unit

LIMITS = Limits(memory_mb=256, disk_mb=1024)


def _image(tmp_path: Path, name: str = "image.tar.gz") -> Path:
    path = tmp_path / name
    path.write_bytes(make_image(4096))
    return path


async def test_life_cycle_survives_a_restart(tmp_path: Path) -> None:
    driver = SimulatedDriver(tmp_path / "state")
    assert await driver.state("c1") == "absent"
    await driver.create("c1", _image(tmp_path), LIMITS)
    assert await driver.state("c1") == "stopped"
    await driver.start("c1")
    assert await driver.state("c1") == "running"

    again = SimulatedDriver(tmp_path / "state")
    assert await again.state("c1") == "running"
    with pytest.raises(DriverError, match="running"):
        await again.destroy("c1")
    await again.stop("c1")
    await again.destroy("c1")
    assert await SimulatedDriver(tmp_path / "state").state("c1") == "absent"


async def test_refuses_what_a_real_driver_could_not_use(tmp_path: Path) -> None:
    driver = SimulatedDriver(tmp_path / "state")
    not_tar = tmp_path / "junk.img"
    not_tar.write_bytes(b"\x00not a tar archive at all" * 100)
    with pytest.raises(DriverError, match="not a readable tar"):
        await driver.create("c1", not_tar, LIMITS)
    with pytest.raises(DriverError, match="not found"):
        await driver.create("c1", tmp_path / "missing.tar", LIMITS)
    with pytest.raises(DriverError, match="does not exist"):
        await driver.start("c1")
    await driver.create("c1", _image(tmp_path), LIMITS)
    with pytest.raises(DriverError, match="already exists"):
        await driver.create("c1", _image(tmp_path), LIMITS)


async def test_platform_replaces_its_container(tmp_path: Path) -> None:
    driver = SimulatedDriver(tmp_path / "state")
    platform = Platform(driver, tmp_path / "state", LIMITS)
    first, second = "sha256:" + "a" * 64, "sha256:" + "b" * 64
    await platform.deploy(first, _image(tmp_path, "a.tar.gz"))
    assert await platform.running_digest() == first

    await platform.deploy(second, _image(tmp_path, "b.tar.gz"))
    assert await driver.state(container_name(second)) == "running"
    assert await driver.state(container_name(first)) == "absent"
    restarted = Platform(SimulatedDriver(tmp_path / "state"), tmp_path / "state", LIMITS)
    assert await restarted.running_digest() == second


async def test_a_bad_image_keeps_the_old_platform(tmp_path: Path) -> None:
    driver = SimulatedDriver(tmp_path / "state")
    platform = Platform(driver, tmp_path / "state", LIMITS)
    good, bad = "sha256:" + "a" * 64, "sha256:" + "b" * 64
    await platform.deploy(good, _image(tmp_path))
    junk = tmp_path / "junk"
    junk.write_bytes(b"junk")
    with pytest.raises(DeployFailed, match="simulated driver: not a readable tar"):
        await platform.deploy(bad, junk)
    assert await platform.running_digest() == good
    await platform.remove()
    assert await driver.state(container_name(good)) == "absent"
    assert await platform.running_digest() is None
