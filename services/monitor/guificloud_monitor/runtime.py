"""The monitor's runtime: its settings, and the ingest counters that the heartbeat loop keeps
and ``GET /api/v1/ingest`` reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends

from guificloud.http import get_runtime
from guificloud.runtime import Runtime
from guificloud_monitor.settings import MonitorSettings


@dataclass
class IngestStats:
    """Counters of this instance since it started (``GET /api/v1/ingest``)."""

    received: int = 0
    malformed: int = 0
    recorded: int = 0
    batches: int = 0
    failed_flushes: int = 0
    dropped: int = 0
    pending: int = 0


@dataclass(frozen=True)
class MonitorResources:
    stats: IngestStats = field(default_factory=IngestStats)


def build_resources(_settings: MonitorSettings) -> MonitorResources:
    return MonitorResources()


MonitorRuntime = Runtime[MonitorSettings, MonitorResources]
MonitorRuntimeDep = Annotated[MonitorRuntime, Depends(get_runtime)]
"""The runtime of the request's app, typed for this service's routes."""
