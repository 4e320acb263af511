"""What a driver does: the container life cycle, the same for LXC and for the simulation.

A container is named by the agent (unique on the box), made from a root filesystem image
(a tar archive in the blob cache) with resource limits, and moves
``absent → stopped ⇄ running → absent``. A driver raises :class:`DriverError` with a
reason fit to be reported when it cannot do what it is asked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

ContainerState = Literal["absent", "stopped", "running"]


@dataclass(frozen=True)
class Limits:
    """What a container may use; ``None`` is unlimited. LXC maps them to cgroups and the
    rootfs size."""

    memory_mb: int | None = None
    disk_mb: int | None = None
    cpus: float | None = None


class DriverError(Exception):
    """The driver could not do it; ``str(exc)`` is the reason the agent reports."""


class Driver(Protocol):
    name: str

    async def create(self, name: str, rootfs_image: Path, limits: Limits) -> None:
        """Make a stopped container from the image; fails if ``name`` exists."""

    async def start(self, name: str) -> None:
        """Start a stopped container; starting a running one does nothing."""

    async def stop(self, name: str) -> None:
        """Stop a running container; stopping a stopped one does nothing."""

    async def destroy(self, name: str) -> None:
        """Remove a stopped container; destroying an absent one does nothing."""

    async def state(self, name: str) -> ContainerState: ...


DriverFactory = Callable[[Path], Driver]
"""Builds a box's driver from the agent's state folder (where a driver may keep its own)."""
