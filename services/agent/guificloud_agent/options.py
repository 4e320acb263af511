"""How an agent runs on this box, beside the ``BoxConfig`` the provisioner gave it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from guificloud_agent.drivers.base import Limits


def _platform_limits() -> Limits:
    return Limits(memory_mb=1024, disk_mb=8192)


@dataclass(frozen=True)
class AgentOptions:
    cache_dir: Path
    """Blobs go to ``cache_dir/blobs/sha256/<hex>``, the agent's own state to ``state_dir``."""
    resync_interval_s: float = 30.0
    """Level-triggered healing: the desired state is fetched again this often."""
    download_rate_limit_bps: int | None = None
    """Bytes per second for image downloads (weak Wi-Fi links); ``None`` is unlimited."""
    download_attempts: int = 5
    """Transient download errors (dropped link, 5xx) are resumed this many times in a row."""
    platform_limits: Limits = field(default_factory=_platform_limits)
    require_signature: bool = False
    """Refuse unsigned images even when no trusted keys are configured (they always are
    refused once the box has trusted keys)."""
    host_memory_mb: int | None = None
    """Memory the box has for its platform and slivers; ``None``: the host's total (a
    simulated fleet gives each box its own, as the boxes share one real host)."""
    host_disk_mb: int | None = None
    """Disk the box has for its platform and slivers; ``None``: the size of the file system
    of ``state_dir``."""
    sliver_workers: int = 4
    """How many slivers are worked on at once (each one's own steps stay in order)."""
    tls_ca: Path | None = None
    """The CA the provisioner, the image store and NATS are verified by (``AgentSettings``)."""

    @property
    def state_dir(self) -> Path:
        return self.cache_dir / "state"
