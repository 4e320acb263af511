"""Drivers run containers from an image's root filesystem; the agent only sees ``Driver``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from guificloud_agent.drivers.base import ContainerState, Driver, DriverError, DriverFactory, Limits
from guificloud_agent.drivers.lxc import LxcDriver
from guificloud_agent.drivers.simulated import SimulatedDriver

DRIVERS: dict[str, Callable[[Path], Driver]] = {"simulated": SimulatedDriver, "lxc": LxcDriver}

__all__ = [
    "DRIVERS",
    "ContainerState",
    "Driver",
    "DriverError",
    "DriverFactory",
    "Limits",
    "LxcDriver",
    "SimulatedDriver",
]
