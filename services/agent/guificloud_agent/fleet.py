"""Many agents in one process: for tests, demos and benchmarks (``guificloud agent sim``).

Each agent has its own NATS connection and its own folder ``cache_root/<box_id>`` (its
state: platform, slivers, simulated containers); they share one HTTP client and one
host-metrics sampler, which is cheap for hundreds of boxes. With ``share_blobs`` they also
share one blob cache, ``cache_root/blobs``: an image is downloaded and verified once per
process, however many boxes and slivers use it (each agent still checks its signature).

The configurations of an enrolled fleet are kept in ``cache_root/fleet.json`` so a
restarted simulation runs the same boxes instead of enrolling new ones.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from guificloud.boxes import BoxConfig
from guificloud.logging import get_logger
from guificloud_agent.agent import Agent
from guificloud_agent.cache import BlobCache
from guificloud_agent.drivers.base import DriverFactory
from guificloud_agent.enroll import enroll_simulated_boxes
from guificloud_agent.httpclient import http_client
from guificloud_agent.metrics import MetricsSampler
from guificloud_agent.options import AgentOptions
from guificloud_agent.settings import AgentSettings

__all__ = ["enroll_simulated_boxes", "load_fleet", "run_agents", "save_fleet"]

log = get_logger(__name__)

FLEET_FILE = "fleet.json"
_CONFIGS = TypeAdapter(list[BoxConfig])


async def run_agents(
    configs: list[BoxConfig],
    *,
    driver_factory: DriverFactory,
    cache_root: Path,
    stop: asyncio.Event,
    resync_interval_s: float = 30.0,
    rate_limit_bps: int | None = None,
    share_blobs: bool = False,
    host_memory_mb: int | None = None,
    host_disk_mb: int | None = None,
    later: AsyncIterator[BoxConfig] | None = None,
    settings: AgentSettings | None = None,
) -> None:
    """Run one agent per configuration, and one per configuration ``later`` yields as it
    comes (see :mod:`guificloud_agent.adopt`), until ``stop`` is set. ``host_memory_mb`` and
    ``host_disk_mb`` give each simulated box its own size (by default each would count the
    whole real host). A configuration ``settings`` refuses (a URL in clear outside
    development) stops the fleet with :class:`~guificloud_agent.settings.PlainUrlRefused`."""
    settings = settings or AgentSettings()
    interval = min((c.heartbeat_interval_s for c in configs), default=1.0)
    sampler = MetricsSampler(cache_root, max_age_s=min(1.0, interval / 2))
    blobs = BlobCache(cache_root, shared=True) if share_blobs else None
    async with http_client(ca=settings.tls_ca) as http:
        running: list[tuple[Agent, asyncio.Task[None]]] = []

        def start(config: BoxConfig) -> None:
            settings.refuse_plain_config(config)
            options = AgentOptions(
                cache_dir=cache_root / str(config.box_id),
                resync_interval_s=resync_interval_s,
                download_rate_limit_bps=rate_limit_bps,
                host_memory_mb=host_memory_mb,
                host_disk_mb=host_disk_mb,
                tls_ca=settings.tls_ca,
            )
            driver = driver_factory(options.state_dir)
            agent = Agent(config, options, driver=driver, metrics=sampler, http=http, blobs=blobs)
            running.append((agent, asyncio.create_task(agent.run(stop))))

        for config in configs:
            start(config)
        log.info("fleet.started", boxes=len(running))
        try:
            if later is not None:
                async for config in later:
                    start(config)
            await stop.wait()
        except BaseException:
            stop.set()  # adoption failed for good: the fleet ends with it
            raise
        finally:
            results = await asyncio.gather(*(t for _, t in running), return_exceptions=True)
            for (agent, _), result in zip(running, results, strict=True):
                if isinstance(result, BaseException):
                    log.error(
                        "fleet.agent_ended", box_id=str(agent.config.box_id), error=repr(result)
                    )
            log.info("fleet.stopped", boxes=len(running))


def load_fleet(cache_root: Path) -> list[BoxConfig]:
    try:
        return _CONFIGS.validate_json((cache_root / FLEET_FILE).read_bytes())
    except FileNotFoundError:
        return []
    except ValidationError as exc:
        log.warning("fleet.file_unreadable", error=str(exc))
        return []


def save_fleet(cache_root: Path, configs: list[BoxConfig]) -> None:
    cache_root.mkdir(parents=True, exist_ok=True)
    tmp = cache_root / f"{FLEET_FILE}.tmp"
    tmp.write_text(json.dumps(_CONFIGS.dump_python(configs, mode="json"), indent=1))
    os.replace(tmp, cache_root / FLEET_FILE)
