"""What the box can give slivers, and what they hold: reservations are checked and taken in
one step (no await between), so slivers allocated at the same moment never over-commit.

The host's capacity is read from the host (total memory; total size of the file system of
the agent's state folder) unless options give it, as a simulated fleet does: many "boxes"
then share one real host. The platform container's limits are taken off first.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

import psutil

from guificloud_agent.drivers.base import Limits
from guificloud_agent.failures import SliverFailed
from guificloud_agent.options import AgentOptions

MB = 1024 * 1024


@dataclass(frozen=True)
class HostCapacity:
    memory_mb: int
    disk_mb: int


def host_capacity(options: AgentOptions) -> HostCapacity:
    memory = options.host_memory_mb
    disk = options.host_disk_mb
    if memory is None:
        memory = psutil.virtual_memory().total // MB
    if disk is None:
        options.state_dir.mkdir(parents=True, exist_ok=True)
        disk = psutil.disk_usage(str(options.state_dir)).total // MB
    return HostCapacity(memory_mb=memory, disk_mb=disk)


@dataclass(frozen=True)
class Reservation:
    memory_mb: int
    disk_mb: int


class Ledger:
    def __init__(self, capacity: HostCapacity) -> None:
        self.capacity = capacity
        self.platform = Limits()
        """The platform container's limits while the box has or wants a platform."""
        self._held: dict[UUID, Reservation] = {}

    def holds(self, sliver_id: UUID) -> bool:
        return sliver_id in self._held

    def reserve(self, sliver_id: UUID, wanted: Reservation) -> None:
        """Take ``wanted`` for the sliver or raise ``fail_allocate`` naming what is short."""
        if sliver_id in self._held:
            return
        others = [r for s, r in self._held.items() if s != sliver_id]
        short = []
        for what, need, total, platform, used in (
            (
                "memory",
                wanted.memory_mb,
                self.capacity.memory_mb,
                self.platform.memory_mb or 0,
                sum(r.memory_mb for r in others),
            ),
            (
                "disk",
                wanted.disk_mb,
                self.capacity.disk_mb,
                self.platform.disk_mb or 0,
                sum(r.disk_mb for r in others),
            ),
        ):
            free = total - platform - used
            if need > free:
                short.append(
                    f"not enough {what}: the sliver needs {need} MB, {max(free, 0)} MB free of "
                    f"{total} MB (platform {platform} MB, {len(others)} other slivers {used} MB)"
                )
        if short:
            raise SliverFailed("fail_allocate", "; ".join(short))
        self._held[sliver_id] = wanted

    def adopt(self, sliver_id: UUID, held: Reservation) -> None:
        """What a sliver held before the agent restarted, taken back without a check."""
        self._held[sliver_id] = held

    def release(self, sliver_id: UUID) -> None:
        self._held.pop(sliver_id, None)
