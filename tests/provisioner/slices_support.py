"""What the slice tests share: a provisioner process with a fast reconciler, a group that
may have slices (its facts published as the identity service does) with a slice admin whose
token the client sends, ready boxes made through the real events (device added, distro
published, agent report, monitor verdict), a box that acts on its desired state as an agent
would, and event capture."""

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
from sqlalchemy import text

from guificloud.auth import Principal
from guificloud.bus.connection import Bus
from guificloud.db.engine import make_engine
from guificloud.events.agent import AgentReported, SliverStatus
from guificloud.events.envelope import Envelope, Event
from guificloud.events.identity import Quotas
from guificloud.events.imagestore import ImagePublished
from guificloud.events.monitor import BoxOffline, BoxOnline
from guificloud.events.registry import DeviceAdded, Hardware, Ownership, ZoneCreated
from guificloud.states import REACHES
from guificloud.streams import IMAGESTORE, MONITOR, REGISTRY
from guificloud.testing.authority import ADMIN_TOKEN, TestAuthority
from guificloud.testing.processes import ServiceProcess

OPERATOR = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
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
    """``client`` sends the token of ``manager``, the slice admin of ``group``."""

    client: httpx.AsyncClient
    bus: Bus
    authority: TestAuthority
    nats_url: str
    database_url: str
    group: UUID = field(default_factory=uuid4)
    manager: Principal | None = None
    proc: ServiceProcess | None = None
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    async def new_group(
        self, group: UUID | None = None, *, allow_slices: bool = True, quotas: Quotas | None = None
    ) -> UUID:
        """A group (or a new state of one) as the identity service tells it, once the
        provisioner has heard of it."""
        group = group or uuid4()
        await self.authority.group(
            self.nats_url, group, allow_slices=allow_slices, quotas=quotas or Quotas()
        )
        engine = make_engine(self.database_url)
        query = text("SELECT allow_slices, quotas FROM provisioner.group_facts WHERE group_id = :g")
        wanted = (allow_slices, (quotas or Quotas()).model_dump())
        try:
            deadline = time.monotonic() + 15
            while True:
                async with engine.connect() as conn:
                    row = (await conn.execute(query, {"g": group})).first()
                if row is not None and (row.allow_slices, row.quotas) == wanted:
                    return group
                assert time.monotonic() < deadline, f"the provisioner never heard of {group}"
                await asyncio.sleep(0.05)
        finally:
            await engine.dispose()

    def headers(self, principal: Principal) -> dict[str, str]:
        return self.authority.headers(principal)

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
        owner: Ownership | None = None,
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
                    owner=owner or Ownership(),
                )
            )
        for box in made:
            path = f"/api/v1/boxes/{box.id}"
            detail = await self.wait(path, lambda b: b["desired_distro"] is not None)
            config = await self.client.get(f"{path}/config", headers=OPERATOR)
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
        body.setdefault("group_id", str(self.group))
        body.setdefault("image", {"name": "webapp"})
        response = await self.client.post("/api/v1/slices", json=body)
        assert response.status_code == 201, response.text
        return response.json()  # type: ignore[no-any-return]

    async def slivers(self, slice_id: str) -> list[dict[str, Any]]:
        response = await self.client.get(f"/api/v1/slices/{slice_id}/slivers")
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]


def provisioner_env(database_url: str, nats_url: str, **settings: str) -> dict[str, str]:
    return {
        "GUIFICLOUD_DATABASE_URL": database_url,
        "GUIFICLOUD_NATS_URL": nats_url,
        **FAST,
        **{f"GUIFICLOUD_PROVISIONER_{k.upper()}": v for k, v in settings.items()},
    }


@asynccontextmanager
async def harness(
    authority: TestAuthority,
    database_url: str,
    nats_url: str,
    tmp_path: Path,
    *,
    quotas: Quotas | None = None,
    **settings: str,
) -> AsyncIterator[Harness]:
    """A provisioner with ``h.group`` known to it (allowed slices, within ``quotas``)."""
    bus = await Bus.connect(nats_url, name="test")
    await bus.declare((REGISTRY, IMAGESTORE, MONITOR))
    h = Harness(
        client=httpx.AsyncClient(timeout=10),
        bus=bus,
        authority=authority,
        nats_url=nats_url,
        database_url=database_url,
    )
    h.manager = authority.member(login="lab-admin", groups={h.group: {"slice_admin"}})
    h.client.headers.update(h.headers(h.manager))

    async def capture(msg: Any) -> None:
        h.events.append((msg.subject, json.loads(msg.data)["data"]))

    await bus.nc.subscribe("provisioner.>", cb=capture)
    await bus.nc.subscribe("box.>", cb=capture)
    proc = ServiceProcess(
        "guificloud_provisioner",
        log_dir=tmp_path,
        env=provisioner_env(database_url, nats_url, **settings),
    )
    proc.start()
    h.proc = proc
    h.client.base_url = httpx.URL(proc.url)
    try:
        await h.new_group(h.group, quotas=quotas)
        yield h
    finally:
        await h.client.aclose()
        proc.stop()
        await bus.close()
