"""The box's slivers, each driven up or down Community-Lab's ladder toward its set state.

``register``: nothing on the box. ``deploy``: resources reserved (``fail_allocate`` when
the box cannot hold them), the image's signature checked and its blob fetched
(``allocated``), the container made with the sliver's limits, stopped (``deployed``).
``start``: the container runs (``started``). Going down stops (``deployed``) or destroys
(``registered``) it. A new instance, image or limits destroys the old container and starts
from scratch; a sliver no longer desired is destroyed and forgotten. A failed step leaves
``fail_deploy`` / ``fail_start`` with the driver's reason, and is tried again on every later
apply (quietly: no report unless the outcome differs).

Every change of a sliver's actual state calls ``on_change`` (the agent then reports all of
them). Slivers are worked on concurrently, at most ``sliver_workers`` at a time; one
sliver's steps stay in order because an apply runs once per sliver and applies do not
overlap.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

from guificloud.boxes import DesiredState, SliverSpec
from guificloud.events.agent import SliverStatus
from guificloud.logging import get_logger
from guificloud.states import HOLDING, SliverFailure
from guificloud_agent.capacity import Ledger, Reservation
from guificloud_agent.drivers.base import ContainerState, Driver, DriverError, Limits
from guificloud_agent.failures import DeployFailed, SliverFailed
from guificloud_agent.images import Images
from guificloud_agent.signature import KeyNames
from guificloud_agent.sliver_records import SliverRecord, SliverRecords

log = get_logger(__name__)


class Slivers:
    def __init__(
        self,
        driver: Driver,
        state_dir: Path,
        images: Images,
        ledger: Ledger,
        on_change: Callable[[], None],
        *,
        workers: int = 4,
    ) -> None:
        self.driver = driver
        self.images = images
        self.ledger = ledger
        self.on_change = on_change
        self.records = SliverRecords(state_dir)
        for record in self.records.records.values():
            if record.state in HOLDING:
                ledger.adopt(record.sliver_id, record.reservation)
        self._workers = asyncio.Semaphore(workers)
        self._fetched: set[str] = set()

    def statuses(self) -> list[SliverStatus]:
        records = sorted(self.records.records.values(), key=lambda r: str(r.sliver_id))
        return [r.status() for r in records]

    async def apply(self, desired: DesiredState, trusted: dict[str, str]) -> None:
        wanted = {s.sliver_id: s for s in desired.slivers}
        names = desired.key_names
        jobs = [self._work(s.sliver_id, self._converge(s, trusted, names)) for s in wanted.values()]
        gone = [i for i in self.records.records if i not in wanted]
        jobs += [self._work(i, self._remove(i)) for i in gone]
        await asyncio.gather(*jobs)

    def prune_images(self, keep: Collection[str]) -> None:
        """Drop the blobs slivers fetched that nothing desired uses any more."""
        if self.images.cache.shared:
            return
        for digest in self._fetched - set(keep):
            self.images.cache.discard(digest)
            log.info("sliver.image_dropped", digest=digest)
        self._fetched &= set(keep)

    async def _work(self, sliver_id: UUID, job: Coroutine[Any, Any, None]) -> None:
        async with self._workers:
            try:
                await job
            except Exception:
                log.exception("sliver.crashed", sliver_id=str(sliver_id))

    # -- one sliver --------------------------------------------------------------------

    async def _converge(self, spec: SliverSpec, trusted: dict[str, str], names: KeyNames) -> None:
        before = self.records.get(spec.sliver_id)
        quiet = (
            before is not None
            and before.failed
            and before.same_build(spec)
            and before.wanted == spec.set_state
        )
        try:
            await self._ladder(spec, trusted, names, quiet=quiet)
        except SliverFailed as exc:
            log.warning(
                "sliver.failed", sliver_id=str(spec.sliver_id), state=exc.state, reason=exc.reason
            )
            if exc.state not in HOLDING:  # only a fail_start keeps its container
                self.ledger.release(spec.sliver_id)
            self._put(SliverRecord.of(spec, exc.state, exc.reason), quiet=quiet)
        after = self.records.get(spec.sliver_id)
        if quiet and before is not None and after is not None and after.status() != before.status():
            self.on_change()

    async def _ladder(
        self, spec: SliverSpec, trusted: dict[str, str], names: KeyNames, *, quiet: bool
    ) -> None:
        record = self.records.get(spec.sliver_id)
        if record is not None and not record.same_build(spec):
            if not await self._teardown(record, quiet=quiet):
                return
            record = None
        if spec.set_state == "register":  # also a container a lost record left behind
            left = record or SliverRecord.of(spec, "registered")
            if not await self._teardown(left, quiet=quiet):
                return
            self._put(SliverRecord.of(spec, "registered"), quiet=quiet)
            return
        image: Path | None = None
        if record is None or record.state not in HOLDING:
            image = await self._allocate(spec, trusted, names, quiet=quiet)
        failing: SliverFailure = "fail_start" if spec.set_state == "start" else "fail_deploy"
        with failing_as(failing, self.driver.name):
            actual = await self.driver.state(self._name(spec))
        if actual == "absent":
            await self._create(spec, image)
            self._put(SliverRecord.of(spec, "deployed"), quiet=quiet)
            actual = "stopped"
        if spec.set_state == "deploy":
            await self._down_to_deployed(spec, actual, quiet=quiet)
            return
        if actual != "running":
            with failing_as("fail_start", self.driver.name):
                await self.driver.start(self._name(spec))
        self._put(SliverRecord.of(spec, "started"), quiet=quiet)

    async def _allocate(
        self, spec: SliverSpec, trusted: dict[str, str], names: KeyNames, *, quiet: bool
    ) -> Path:
        """Reserve, check the signature, fetch the image: ``allocated``."""
        self.ledger.reserve(spec.sliver_id, Reservation(spec.memory_mb, spec.disk_mb))
        with failing_as("fail_deploy", self.driver.name):
            self.images.check(spec.image, trusted, names)
            self._fetched.add(spec.image.digest)
            image = await self.images.blob(spec.image)
        self._put(SliverRecord.of(spec, "allocated"), quiet=quiet)
        return image

    async def _create(self, spec: SliverSpec, image: Path | None) -> None:
        """Make the stopped container with the sliver's limits."""
        limits = Limits(memory_mb=spec.memory_mb, disk_mb=spec.disk_mb, cpus=spec.cpu_share)
        with failing_as("fail_deploy", self.driver.name):
            if image is None:  # allocated before, and the container has gone since
                self._fetched.add(spec.image.digest)
                image = await self.images.blob(spec.image)
            await self.driver.create(self._name(spec), image, limits)

    async def _down_to_deployed(
        self, spec: SliverSpec, actual: ContainerState, *, quiet: bool
    ) -> None:
        record = SliverRecord.of(spec, "deployed")
        if actual == "running":
            try:
                await self.driver.stop(self._name(spec))
            except DriverError as exc:
                current = self.records.get(spec.sliver_id) or record
                reason = f"could not stop: {self.driver.name} driver: {exc}"
                self._put(current.model_copy(update={"reason": reason}), quiet=quiet)
                return
        self._put(record, quiet=quiet)

    async def _teardown(self, record: SliverRecord, *, quiet: bool) -> bool:
        """Stop and destroy the record's container and release what it held; on a driver
        error the record keeps its state, with the reason, and the next apply tries again."""
        name = record.container
        try:
            state = await self.driver.state(name)
            if state == "running":
                await self.driver.stop(name)
            if state != "absent":
                await self.driver.destroy(name)
        except DriverError as exc:
            reason = f"could not destroy {name}: {self.driver.name} driver: {exc}"
            log.warning("sliver.teardown_failed", sliver_id=str(record.sliver_id), reason=reason)
            self._put(record.model_copy(update={"reason": reason}), quiet=quiet)
            return False
        self.ledger.release(record.sliver_id)
        if state != "absent":
            log.info("sliver.destroyed", sliver_id=str(record.sliver_id), container=name)
        return True

    async def _remove(self, sliver_id: UUID) -> None:
        record = self.records.get(sliver_id)
        if record is None or not await self._teardown(record, quiet=False):
            return
        self.records.drop(sliver_id)
        log.info("sliver.removed", sliver_id=str(sliver_id))
        self.on_change()

    # -- records -----------------------------------------------------------------------

    @staticmethod
    def _name(spec: SliverSpec) -> str:
        return SliverRecord.of(spec, "registered").container

    def _put(self, record: SliverRecord, *, quiet: bool) -> None:
        previous = self.records.get(record.sliver_id)
        if previous == record:
            return
        self.records.put(record)
        if previous is not None and previous.status() == record.status():
            return
        log.info(
            "sliver.state",
            sliver_id=str(record.sliver_id),
            instance=record.instance,
            state=record.state,
            reason=record.reason,
        )
        if not quiet:
            self.on_change()


@contextmanager
def failing_as(state: SliverFailure, driver: str) -> Iterator[None]:
    """Turn what a step raises into the ``fail_*`` state it reports, with the reason."""
    try:
        yield
    except SliverFailed:
        raise
    except DriverError as exc:
        raise SliverFailed(state, f"{driver} driver: {exc}") from exc
    except DeployFailed as exc:
        raise SliverFailed(state, exc.reason) from exc
    except Exception as exc:
        log.exception("sliver.step_crashed", state=state)
        raise SliverFailed(state, f"agent error: {type(exc).__name__}: {exc}") from exc
