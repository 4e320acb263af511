"""Real metrics of the host for heartbeats: load, memory, disk of the cache, uptime.

One sampler is shared by all agents of a process and samples at most once per ``max_age_s``,
so a thousand simulated boxes cost one sample per tick.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import psutil

from guificloud.events.agent import HostMetrics

MB = 1024 * 1024
GB = 1024 * MB


def sample_host(disk_path: Path) -> HostMetrics:
    load1, load5, load15 = os.getloadavg()
    memory = psutil.virtual_memory()
    disk = psutil.disk_usage(str(disk_path))
    return HostMetrics(
        load1=round(load1, 2),
        load5=round(load5, 2),
        load15=round(load15, 2),
        mem_total_mb=memory.total // MB,
        mem_used_mb=(memory.total - memory.available) // MB,
        disk_total_gb=round(disk.total / GB, 2),
        disk_used_gb=round(disk.used / GB, 2),
        uptime_s=int(time.time() - psutil.boot_time()),
    )


class MetricsSampler:
    def __init__(self, disk_path: Path, *, max_age_s: float = 1.0) -> None:
        disk_path.mkdir(parents=True, exist_ok=True)
        self.disk_path = disk_path
        self.max_age_s = max_age_s
        self._last: HostMetrics | None = None
        self._at = 0.0

    def sample(self) -> HostMetrics:
        now = time.monotonic()
        if self._last is None or now - self._at >= self.max_age_s:
            self._last = sample_host(self.disk_path)
            self._at = now
        return self._last
