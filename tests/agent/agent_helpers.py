"""Helpers of the agent's tests: images, running agents, reports read back from JetStream."""

from __future__ import annotations

import asyncio
import io
import os
import tarfile
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from guificloud.boxes import BoxConfig, DistroSpec, SliverSpec
from guificloud.bus import Bus
from guificloud.events.agent import AgentReported, SliverStatus
from guificloud.events.envelope import Envelope
from guificloud.events.provisioner import BoxSync
from guificloud.states import SetState
from guificloud_agent.agent import Agent
from guificloud_agent.drivers.base import Driver
from guificloud_agent.drivers.simulated import SimulatedDriver
from guificloud_agent.options import AgentOptions

TIMEOUT_S = 15.0


def make_image(size: int = 64 * 1024, *, files: int = 2) -> bytes:
    """A tar.gz root filesystem of about ``size`` bytes (random content: gzip cannot shrink it)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as archive:
        for i in range(files):
            content = os.urandom(size // files)
            info = tarfile.TarInfo(f"rootfs/file{i}.bin")
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return out.getvalue()


class Reports:
    """The reports of one box, in order, read back from the AGENTS stream."""

    def __init__(self, sub: Any) -> None:
        self._sub = sub
        self.seen: list[AgentReported] = []
        self.envelopes: list[Envelope] = []

    async def until(
        self,
        predicate: Callable[[AgentReported], bool],
        timeout_s: float = TIMEOUT_S,
        *,
        since: int = 0,
    ) -> AgentReported:
        """The first report from the ``since``-th on that satisfies ``predicate``."""
        for report in self.seen[since:]:
            if predicate(report):
                return report
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"no such report; seen: {self.states()}")
            try:
                msg = await self._sub.next_msg(timeout=remaining)
            except TimeoutError:
                continue
            envelope = Envelope.model_validate_json(msg.data)
            report = AgentReported.model_validate(envelope.data)
            self.envelopes.append(envelope)
            self.seen.append(report)
            if predicate(report):
                return report

    async def state(self, state: str, **fields: Any) -> AgentReported:
        return await self.until(
            lambda r: r.state == state and all(getattr(r, k) == v for k, v in fields.items())
        )

    def states(self) -> list[tuple[str, int, str | None]]:
        return [(r.state, r.generation, r.distro_digest) for r in self.seen]

    async def sliver(
        self, sliver_id: UUID, state: str, *, since: int = 0, **fields: Any
    ) -> SliverStatus:
        """Wait for a report in which the sliver is in ``state`` (and has ``fields``)."""

        def matches(report: AgentReported) -> bool:
            found = sliver_of(report, sliver_id)
            return (
                found is not None
                and found.state == state
                and all(getattr(found, k) == v for k, v in fields.items())
            )

        report = await self.until(matches, since=since)
        found = sliver_of(report, sliver_id)
        assert found is not None
        return found

    def sliver_changes(self, sliver_id: UUID) -> list[tuple[str, int] | None]:
        """The sliver's (state, instance) in every report, a repeat counted once, from its
        first appearance; ``None`` where a report no longer lists it."""
        seen = []
        for report in self.seen:
            found = sliver_of(report, sliver_id)
            seen.append(None if found is None else (found.state, found.instance))
        while seen and seen[0] is None:
            seen.pop(0)
        return [s for i, s in enumerate(seen) if i == 0 or seen[i - 1] != s]

    def changes(self) -> list[tuple[str, int, str | None]]:
        """The states in order, a repeat counted once: an agent that connects while deploying
        says so again (reports are level-based)."""
        states = self.states()
        return [s for i, s in enumerate(states) if i == 0 or states[i - 1] != s]


def sliver_of(report: AgentReported, sliver_id: UUID) -> SliverStatus | None:
    return next((s for s in report.slivers if s.sliver_id == sliver_id), None)


def sliver_spec(
    image: DistroSpec,
    set_state: SetState = "deploy",
    *,
    instance: int = 0,
    memory_mb: int = 64,
    disk_mb: int = 64,
    cpu_share: float = 0.5,
    slice_id: UUID | None = None,
) -> SliverSpec:
    """A sliver of a new (or the given) slice, as the provisioner lists it for a box."""
    return SliverSpec(
        sliver_id=uuid4(),
        slice_id=slice_id or uuid4(),
        slice_name="test-slice",
        instance=instance,
        set_state=set_state,
        image=image,
        memory_mb=memory_mb,
        disk_mb=disk_mb,
        cpu_share=cpu_share,
    )


async def sync(bus: Bus, box_id: UUID, generation: int) -> Envelope:
    """Tell the box its desired state changed, as the provisioner does."""
    command = BoxSync(box_id=box_id, generation=generation)
    envelope = Envelope.wrap(command, source="provisioner")
    await bus.publish(command.subject(), envelope)
    return envelope


@asynccontextmanager
async def running_agent(
    config: BoxConfig, cache_dir: Path, *, driver: Driver | None = None, **options: Any
) -> AsyncIterator[Agent]:
    """An agent running in this process until the block ends (as a stop signal would)."""
    opts = AgentOptions(cache_dir=cache_dir, **options)
    agent = Agent(config, opts, driver=driver or SimulatedDriver(opts.state_dir))
    stop = asyncio.Event()
    task = asyncio.create_task(agent.run(stop))
    try:
        yield agent
    finally:
        stop.set()
        await asyncio.wait_for(task, TIMEOUT_S)


async def eventually(check: Callable[[], bool], timeout_s: float = TIMEOUT_S) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not check():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)
