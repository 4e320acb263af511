"""The box's platform container (the Guifi-Community-Distro), through the driver.

The container is named after the digest it was made from, and the agent records that name
in its state folder, so that after a restart it knows whether the platform already runs the
desired image. A new image replaces the old container: create the new one (which checks the
image), stop the old, start the new, destroy the old; if the new one will not start, the
old one is started again.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ValidationError

from guificloud.logging import get_logger
from guificloud_agent.drivers.base import Driver, DriverError, Limits
from guificloud_agent.failures import DeployFailed

log = get_logger(__name__)

RECORD_FILE = "platform.json"


def container_name(digest: str) -> str:
    return f"platform-{digest.removeprefix('sha256:')[:12]}"


class PlatformRecord(BaseModel):
    name: str
    digest: str


class Platform:
    def __init__(self, driver: Driver, state_dir: Path, limits: Limits) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        self.driver = driver
        self.limits = limits
        self._file = state_dir / RECORD_FILE
        self.current = self._load()

    def _load(self) -> PlatformRecord | None:
        try:
            return PlatformRecord.model_validate_json(self._file.read_text())
        except FileNotFoundError:
            return None
        except ValidationError as exc:
            log.warning("platform.record_unreadable", file=str(self._file), error=str(exc))
            return None

    def _save(self, record: PlatformRecord | None) -> None:
        self.current = record
        if record is None:
            self._file.unlink(missing_ok=True)
            return
        tmp = self._file.with_suffix(".tmp")
        tmp.write_text(record.model_dump_json())
        os.replace(tmp, self._file)

    async def running_digest(self) -> str | None:
        """The digest of the platform if its container runs."""
        if self.current and await self.driver.state(self.current.name) == "running":
            return self.current.digest
        return None

    async def deploy(self, digest: str, image: Path) -> None:
        """Run the platform from ``image``; raises :class:`DeployFailed`."""
        name = container_name(digest)
        try:
            if await self.driver.state(name) != "absent" and self._is_current(name):
                await self.driver.start(name)
            else:
                await self._replace(name, image)
        except DriverError as exc:
            raise DeployFailed(f"{self.driver.name} driver: {exc}") from exc
        self._save(PlatformRecord(name=name, digest=digest))
        log.info("platform.running", container=name, digest=digest)

    def _is_current(self, name: str) -> bool:
        return self.current is not None and self.current.name == name

    async def _replace(self, name: str, image: Path) -> None:
        old = None if self.current is None or self._is_current(name) else self.current.name
        await self._remove(name)  # what a broken earlier attempt left
        await self.driver.create(name, image, self.limits)
        if old is not None and await self._exists(old):
            await self.driver.stop(old)
        try:
            await self.driver.start(name)
        except DriverError:
            await self._remove(name)
            if old is not None and await self._exists(old):
                await self.driver.start(old)
            raise
        if old is not None:
            await self._remove(old)

    async def remove(self) -> None:
        """No platform wanted: stop and destroy it; raises :class:`DeployFailed`."""
        if self.current is None:
            return
        try:
            await self._remove(self.current.name)
        except DriverError as exc:
            raise DeployFailed(f"{self.driver.name} driver: {exc}") from exc
        log.info("platform.removed", container=self.current.name)
        self._save(None)

    async def _exists(self, name: str) -> bool:
        return await self.driver.state(name) != "absent"

    async def _remove(self, name: str) -> None:
        state = await self.driver.state(name)
        if state == "running":
            await self.driver.stop(name)
        if state != "absent":
            await self.driver.destroy(name)
