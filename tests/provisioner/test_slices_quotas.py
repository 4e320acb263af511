"""A group's quotas (slivers, memory, disk) bound what its slices hold: a refusal is a 409
naming the quota, its limit, what the group holds and what was asked; deleting frees; and
two provisioner instances placing for the group at once never exceed a quota."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from guificloud.events.identity import Quotas
from guificloud.testing.authority import TestAuthority
from guificloud.testing.processes import ServiceProcess
from tests.provisioner.slices_support import Harness, harness, provisioner_env

pytestmark = pytest.mark.integration

SMALL = {"memory_mb": 32, "disk_mb": 10}


def _body(h: Harness, count: int, **defaults: int) -> dict[str, Any]:
    return {
        "name": f"q{count}",
        "group_id": str(h.group),
        "image": {"name": "webapp"},
        "placement": {"count": count},
        "sliver_defaults": {**SMALL, **defaults},
    }


def _refused(response: httpx.Response, name: str, limit: int, used: int, asked: int) -> None:
    assert response.status_code == 409, response.text
    body = response.json()
    assert body["quota"] == {
        "group_id": body["quota"]["group_id"],
        "name": name,
        "limit": limit,
        "used": used,
        "asked": asked,
    }
    assert f"quota of {name} is {limit}" in body["detail"]


async def test_quotas_refuse_naming_the_quota_and_free_on_delete(
    authority: TestAuthority, database_url: str, nats_url: str, tmp_path: Path
) -> None:
    quotas = Quotas(slivers=3, memory_mb=1000, disk_mb=100)
    async with harness(authority, database_url, nats_url, tmp_path, quotas=quotas) as h:
        await h.publish_images()
        boxes = await h.boxes(4, zone_id=await h.zone())
        first = (await h.client.post("/api/v1/slices", json=_body(h, 2))).json()
        _refused(await h.client.post("/api/v1/slices", json=_body(h, 2)), "slivers", 3, 2, 2)
        big = _body(h, 1, memory_mb=1000)
        _refused(await h.client.post("/api/v1/slices", json=big), "memory_mb", 1000, 64, 1000)
        _refused(
            await h.client.post("/api/v1/slices", json=_body(h, 1, disk_mb=90)),
            "disk_mb",
            100,
            20,
            90,
        )

        taken = {s["box_id"] for s in await h.slivers(first["id"])}
        free = [str(b.id) for b in boxes if str(b.id) not in taken]
        path = f"/api/v1/slices/{first['id']}/slivers"
        added = await h.client.post(path, json={"box_id": free[0]})
        assert added.status_code == 201, added.text
        _refused(await h.client.post(path, json={"box_id": free[1]}), "slivers", 3, 3, 1)

        assert (await h.client.delete(f"/api/v1/slices/{first['id']}")).status_code == 202
        again = await h.client.post("/api/v1/slices", json=_body(h, 3))
        assert again.status_code == 201, again.text

        await h.new_group(h.group, quotas=Quotas(slivers=4))  # an operator raised it
        more = await h.client.post("/api/v1/slices", json=_body(h, 1, memory_mb=1000))
        assert more.status_code == 201, more.text


async def test_two_instances_racing_on_one_groups_quota_never_exceed_it(
    authority: TestAuthority, database_url: str, nats_url: str, tmp_path: Path
) -> None:
    async with harness(authority, database_url, nats_url, tmp_path, quotas=Quotas(slivers=3)) as h:
        await h.publish_images()
        # Room for every request many times over: only the quota can refuse.
        await h.boxes(4, zone_id=await h.zone())
        (tmp_path / "second").mkdir()
        second = ServiceProcess(
            "guificloud_provisioner",
            log_dir=tmp_path / "second",
            env=provisioner_env(database_url, nats_url),
        )
        second.start()
        try:
            async with httpx.AsyncClient(
                base_url=second.url, timeout=20, headers=h.client.headers
            ) as other:
                responses = await asyncio.gather(
                    *(
                        (h.client if i % 2 else other).post("/api/v1/slices", json=_body(h, 1))
                        for i in range(8)
                    )
                )
        finally:
            second.stop()
        codes = sorted(r.status_code for r in responses)
        assert codes == [201] * 3 + [409] * 5, [r.text for r in responses]
        assert all(
            r.json()["quota"]["name"] == "slivers" for r in responses if r.status_code == 409
        )
        listed = (await h.client.get("/api/v1/slices", params={"group_id": str(h.group)})).json()
        assert sum(sum(s["counts"].values()) for s in listed) == 3
