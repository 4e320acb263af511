"""The simulated driver: the container state machine without containers.

For tests, demos and fleet-scale runs. It checks what a real driver would trip on (the image
exists and is a readable tar archive) and keeps its containers in a small JSON file in the
agent's state folder, so a restarted agent finds what "runs".
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import tarfile
import zlib
from dataclasses import asdict
from pathlib import Path

from pydantic import BaseModel

from guificloud.logging import get_logger
from guificloud_agent.drivers.base import ContainerState, DriverError, Limits

log = get_logger(__name__)

STATE_FILE = "simulated-containers.json"


class _Container(BaseModel):
    state: ContainerState
    image: str
    limits: dict[str, float | int | None]


def _check_image(path: Path) -> int:
    """Read the archive's member list only (as LXC would before unpacking); returns its size.

    A blob is named by its digest and never rewritten, so a blob read once is not read again
    for the next container made from it (a fleet of boxes with many slivers of one image)."""
    try:
        stat = path.stat()
    except OSError:
        raise DriverError(f"image {path} not found") from None
    return _members(str(path), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=256)
def _members(path: str, size: int, mtime_ns: int) -> int:
    try:
        with tarfile.open(path, mode="r:*") as archive:
            return len(archive.getmembers())
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise DriverError(f"not a readable tar image: {exc}") from exc


class SimulatedDriver:
    name = "simulated"

    def __init__(self, state_dir: Path) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        self._file = state_dir / STATE_FILE
        self._containers: dict[str, _Container] = self._load()

    def _load(self) -> dict[str, _Container]:
        try:
            raw = json.loads(self._file.read_text())
            return {name: _Container.model_validate(c) for name, c in raw.items()}
        except FileNotFoundError:
            return {}
        except (ValueError, AttributeError) as exc:
            log.warning("driver.state_unreadable", file=str(self._file), error=str(exc))
            return {}

    def _save(self) -> None:
        tmp = self._file.with_suffix(".tmp")
        tmp.write_text(json.dumps({n: c.model_dump() for n, c in self._containers.items()}))
        os.replace(tmp, self._file)

    def _get(self, name: str) -> _Container:
        try:
            return self._containers[name]
        except KeyError:
            raise DriverError(f"container {name} does not exist") from None

    async def create(self, name: str, rootfs_image: Path, limits: Limits) -> None:
        if name in self._containers:
            raise DriverError(f"container {name} already exists")
        members = await asyncio.to_thread(_check_image, rootfs_image)
        self._containers[name] = _Container(
            state="stopped", image=str(rootfs_image), limits=asdict(limits)
        )
        self._save()
        log.info("container.created", container=name, image=str(rootfs_image), members=members)

    async def start(self, name: str) -> None:
        container = self._get(name)
        if container.state != "running":
            self._containers[name] = container.model_copy(update={"state": "running"})
            self._save()
            log.info("container.started", container=name)

    async def stop(self, name: str) -> None:
        container = self._get(name)
        if container.state != "stopped":
            self._containers[name] = container.model_copy(update={"state": "stopped"})
            self._save()
            log.info("container.stopped", container=name)

    async def destroy(self, name: str) -> None:
        container = self._containers.get(name)
        if container is None:
            return
        if container.state == "running":
            raise DriverError(f"container {name} is running; stop it first")
        del self._containers[name]
        self._save()
        log.info("container.destroyed", container=name)

    async def state(self, name: str) -> ContainerState:
        container = self._containers.get(name)
        return "absent" if container is None else container.state
