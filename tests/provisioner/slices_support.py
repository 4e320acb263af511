"""What the slice tests share: a provisioner process with a fast reconciler, ready boxes
made through the real events (device added, distro published, agent report, monitor
verdict), a box that acts on its desired state as an agent would, and event capture."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx

from guificloud.bus.connection import Bus
from guificloud.events.agent import AgentReported, SliverStatus
from guificloud.events.envelope import Envelope, Event
from guificloud.events.imagestore import ImagePublished
from guificloud.events.monitor import BoxOffline, BoxOnline
from guificloud.events.registry import DeviceAdded, Hardware, ZoneCreated
from guificloud.states import REACHES
from guificloud.streams import IMAGESTORE, MONITOR, REGISTRY
from guificloud.testing.processes import ServiceProcess

ADMIN = "slices-test-admin-token"
DISTRO = "sha256:" + "d1" * 32
APP = "sha256:" + "a1" * 32
APP_ARM = "sha256:" + "a2" * 32

FAST = {
    "GUIFICLOUD_PROVISIONER_RECONCILE_INTERVAL_S": "0.1",
    "GUIFICLOUD_PROVISIONER_RECONCILE_BACKOFF_S": "30",
    "GUIFICLOUD_PROVISIONER_REPLACE_GRACE_S": "3600",
}


@dataclass
class SimBox:
    id: UUID
    node_id: UUID
    zone_id: UUID
    token: str = ""


@dataclass
class Harness:
    client: httpx.AsyncClient
    bus: Bus
    proc: ServiceProcess | None = None
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    async def publish(self, event: Event) -> None:
        await self.bus.publish(event.subject(), Envelope.wrap(event, source="test"))

    def seen(self, subject: str, **data: Any) -> list[dict[str, Any]]:
        return [
            d
            for s, d in self.events
            if s == subject and all(str(d.get(k)) == str(v) for k, v in data.items())
        ]

    async def wait_event(self, subject: str, timeout: float = 15, **data: Any) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while not (found := self.seen(subject, **data)):
            assert time.monotonic() < deadline, f"no {subject} {data}; saw {self.events[-20:]}"
            await asyncio.sleep(0.05)
        return found[-1]

    async def wait(self, path: str, check: Callable[[Any], bool], timeout: float = 15) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            response = await self.client.get(path)
            if response.status_code == 200 and check(response.json()):
                return response.json()
            assert time.monotonic() < deadline, f"{path} never matched: {response.text}"
            await asyncio.sleep(0.05)

    async def zone(self, parent_id: UUID | None = None) -> UUID:
        zone_id = uuid4()
        await self.publish(
            ZoneCreated(zone_id=zone_id, name=f"z{zone_id.hex[:6]}", parent_id=parent_id)
        )
        return zone_id

    async def publish_images(self) -> None:
        now = datetime.now(UTC)
        for name, version, arch, digest in (
            ("guifi-community-distro", "1.0.0", "all", DISTRO),
            ("webapp", "1.0", "amd64", APP),
            ("webapp", "1.0", "arm64", APP_ARM),
        ):
            await self.publish(
                ImagePublished(
                    image_id=uuid4(),
                    name=name,
                    version=version,
                    arch=arch,
                    format="tar.gz",
                    channel="stable",
                    digest=digest,
                    size=100,
                    url=f"/api/v1/blobs/{digest}",
                    published_at=now,
                )
            )
        await self.wait("/api/v1/distros", lambda d: len(d) == 3)

    async def boxes(
        self,
        n: int,
        *,
        zone_id: UUID,
        arch: str = "amd64",
        ram_mb: int = 2048,
        disk_gb: int = 4,
        same_node: bool = False,
    ) -> list[SimBox]:
        """``n`` ready, online boxes (platform reserve 512 MB / 2 GB is taken off)."""
        node = uuid4()
        made = [SimBox(uuid4(), node if same_node else uuid4(), zone_id) for _ in range(n)]
        for box in made:
            await self.publish(
                DeviceAdded(
                    device_id=box.id,
                    node_id=box.node_id,
                    zone_id=zone_id,
                    name="box",
                    type="cloudy",
                    hardware=Hardware(arch=arch, cores=2, ram_mb=ram_mb, disk_gb=disk_gb),
                )
            )
        for box in made:
            path = f"/api/v1/boxes/{box.id}"
            detail = await self.wait(path, lambda b: b["desired_distro"] is not None)
            config = await self.client.get(
                f"{path}/config", headers={"Authorization": f"Bearer {ADMIN}"}
            )
            box.token = config.json()["token"]
            await self.report(box, state="running", generation=detail["generation"])
            await self.publish(BoxOnline(box_id=box.id, last_seen=datetime.now(UTC)))
        for box in made:
            await self.wait(f"/api/v1/boxes/{box.id}", lambda b: b["state"] == "ready")
        return made

    async def report(
        self,
        box: SimBox,
        *,
        generation: int,
        slivers: list[SliverStatus] | None = None,
        state: str = "running",
    ) -> None:
        await self.publish(
            AgentReported(
                box_id=box.id,
                state=state,
                generation=generation,
                distro_digest=DISTRO,
                driver="simulated",
                slivers=slivers or [],
            )
        )

    async def desired(self, box: SimBox) -> dict[str, Any]:
        response = await self.client.get(
            f"/api/v1/boxes/{box.id}/desired", headers={"Authorization": f"Bearer {box.token}"}
        )
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    async def act(self, box: SimBox, **overrides: str) -> dict[str, Any]:
        """Do what an agent would: fetch the desired state and report every sliver at the
        state its set state asks for (``overrides``: sliver id -> another state)."""
        desired = await self.desired(box)
        statuses = [
            SliverStatus(
                sliver_id=s["sliver_id"],
                instance=s["instance"],
                state=overrides.get(s["sliver_id"], REACHES[s["set_state"]]),
                image_digest=s["image"]["digest"],
            )
            for s in desired["slivers"]
            if overrides.get(s["sliver_id"]) != "absent"
        ]
        await self.report(box, generation=desired["generation"], slivers=statuses)
        return desired

    async def offline(self, box: SimBox) -> None:
        await self.publish(BoxOffline(box_id=box.id, last_seen=datetime.now(UTC), missed=3))

    async def online(self, box: SimBox) -> None:
        await self.publish(BoxOnline(box_id=box.id, last_seen=datetime.now(UTC)))

    async def create_slice(self, **body: Any) -> dict[str, Any]:
        body.setdefault("name", "s")
        body.setdefault("owner_group", "lab")
        body.setdefault("image", {"name": "webapp"})
        response = await self.client.post("/api/v1/slices", json=body)
        assert response.status_code == 201, response.text
        return response.json()  # type: ignore[no-any-return]

    async def slivers(self, slice_id: str) -> list[dict[str, Any]]:
        response = await self.client.get(f"/api/v1/slices/{slice_id}/slivers")
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]


@asynccontextmanager
async def harness(
    database_url: str, nats_url: str, tmp_path: Path, **settings: str
) -> AsyncIterator[Harness]:
    bus = await Bus.connect(nats_url, name="test")
    await bus.declare((REGISTRY, IMAGESTORE, MONITOR))
    h = Harness(client=httpx.AsyncClient(timeout=10), bus=bus)

    async def capture(msg: Any) -> None:
        h.events.append((msg.subject, json.loads(msg.data)["data"]))

    await bus.nc.subscribe("provisioner.>", cb=capture)
    await bus.nc.subscribe("box.>", cb=capture)
    proc = ServiceProcess(
        "guificloud_provisioner",
        log_dir=tmp_path,
        env={
            "GUIFICLOUD_DATABASE_URL": database_url,
            "GUIFICLOUD_NATS_URL": nats_url,
            "GUIFICLOUD_ADMIN_TOKEN": ADMIN,
            **FAST,
            **{f"GUIFICLOUD_PROVISIONER_{k.upper()}": v for k, v in settings.items()},
        },
    )
    proc.start()
    h.proc = proc
    h.client.base_url = httpx.URL(proc.url)
    try:
        yield h
    finally:
        await h.client.aclose()
        proc.stop()
        await bus.close()
