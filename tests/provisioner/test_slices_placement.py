"""Placement through the API: capacity and constraints, validation naming the field, and
concurrent placements (two provisioner instances) that never over-commit a box."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from guificloud.testing.authority import TestAuthority
from guificloud.testing.processes import ServiceProcess
from tests.provisioner.slices_support import APP_ARM, harness, provisioner_env

pytestmark = pytest.mark.integration


async def test_placement_respects_zone_subtree_arch_spread_and_capacity(
    authority: TestAuthority, database_url: str, nats_url: str, tmp_path: Path
) -> None:
    async with harness(authority, database_url, nats_url, tmp_path) as h:
        await h.publish_images()
        root = await h.zone()
        child = await h.zone(root)
        grandchild = await h.zone(child)
        elsewhere = await h.zone()
        deep = await h.boxes(2, zone_id=grandchild)
        paired = await h.boxes(2, zone_id=child, same_node=True)
        arm = await h.boxes(1, zone_id=child, arch="arm64")
        outside = await h.boxes(1, zone_id=elsewhere)

        slice_ = await h.create_slice(placement={"count": 3, "zone_id": str(root), "arch": "amd64"})
        slivers = await h.slivers(slice_["id"])
        boxes = {s["box_id"] for s in slivers}
        assert len(slivers) == 3 and len({s["node_id"] for s in slivers}) == 3
        assert {str(b.id) for b in deep} <= boxes
        assert boxes & {str(b.id) for b in paired}
        assert str(outside[0].id) not in boxes and str(arm[0].id) not in boxes
        assert all(s["state"] == "registered" and s["memory_mb"] == 512 for s in slivers)
        assert slice_["image"]["name"] == "webapp" and slice_["counts"] == {"registered": 3}

        refused = await h.client.post(
            "/api/v1/slices",
            json={
                "name": "too-many",
                "group_id": str(h.group),
                "image": {"name": "webapp"},
                "placement": {"count": 4, "zone_id": str(root), "arch": "amd64"},
            },
        )
        assert refused.status_code == 409, refused.text
        detail = refused.json()["detail"][0]
        assert detail["loc"] == ["body", "placement"] and "on a node already used" in detail["msg"]

        # Without an arch the image's builds decide: the arm64 box gets the arm64 build.
        multi = await h.create_slice(
            placement={"count": 4, "zone_id": str(child), "spread": False},
            sliver_defaults={"memory_mb": 1024, "disk_mb": 1000},
        )
        by_box = {s["box_id"]: s for s in await h.slivers(multi["id"])}
        assert by_box[str(arm[0].id)]["image"]["digest"] == APP_ARM
        # 2048 MB less the 512 MB reserve less 512 + 1024 MB: the deep boxes are now full.
        box = (await h.client.get(f"/api/v1/boxes/{deep[0].id}")).json()
        assert box["allocated_memory_mb"] == 1536 and box["allocated_disk_mb"] == 1200
        full = await h.client.post(
            "/api/v1/slices",
            json={
                "name": "full",
                "group_id": str(h.group),
                "image": {"name": "webapp"},
                "placement": {"boxes": [str(deep[0].id)]},
            },
        )
        assert full.status_code == 409 and str(deep[0].id) in full.text
        roomy = await h.client.post(
            "/api/v1/slices",
            json={
                "name": "roomy",
                "group_id": str(h.group),
                "image": {"name": "webapp"},
                "placement": {"count": 1, "min_free_memory_mb": 1500},
            },
        )
        assert roomy.status_code == 201, roomy.text
        (sliver,) = await h.slivers(roomy.json()["id"])
        assert sliver["box_id"] == str(outside[0].id)

        first = await h.client.get("/api/v1/slices", params={"limit": 2})
        assert [s["id"] for s in first.json()] == [slice_["id"], multi["id"]]
        rest = await h.client.get(first.links["next"]["url"])
        assert [s["id"] for s in rest.json()] == [roomy.json()["id"]] and "Link" not in rest.headers
        assert rest.json()[0]["counts"] == {"registered": 1}
        bad = await h.client.get("/api/v1/slices", params={"cursor": "nonsense"})
        assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "cursor"]


BAD_INPUT: list[tuple[dict[str, object], str]] = [
    ({"sliver_defaults": {"memory_mb": 4096}}, "sliver_defaults.memory_mb"),
    ({"sliver_defaults": {"disk_mb": 2000}}, "sliver_defaults.disk_mb"),
    ({"placement": {"count": 1, "boxes": []}}, "placement.boxes"),
    ({"placement": {"count": 0}}, "placement.count"),
    ({"image": {"name": "nope"}}, "image"),
    ({"image": {"name": "webapp", "digest": "sha256:" + "a1" * 32}}, "image"),
    ({"image": {"digest": "sha256:zz"}}, "image.digest"),
    ({"image": {"digest": "sha256:" + "0" * 64}}, "image.digest"),
    ({"expires_in_days": 31}, "expires_in_days"),
    ({"set_state": "run"}, "set_state"),
    ({"colour": "red"}, "colour"),
    ({"placement": {"boxes": ["6f1c7d0e-0000-4000-8000-000000000000"]}}, "placement.boxes"),
]


async def test_bad_input_names_the_field(
    authority: TestAuthority, database_url: str, nats_url: str, tmp_path: Path
) -> None:
    async with harness(authority, database_url, nats_url, tmp_path) as h:
        await h.publish_images()
        for change, field in BAD_INPUT:
            body = {
                "name": "s",
                "group_id": str(h.group),
                "image": {"name": "webapp"},
                "placement": {"count": 1},
                **change,
            }
            response = await h.client.post("/api/v1/slices", json=body)
            assert response.status_code == 422, (change, response.text)
            named = [".".join(map(str, d["loc"][1:])) for d in response.json()["detail"]]
            assert any(n.startswith(field) for n in named), (change, named)
        assert (await h.client.get("/api/v1/slices")).json() == []


async def test_two_instances_placing_at_once_never_over_commit(
    authority: TestAuthority, database_url: str, nats_url: str, tmp_path: Path
) -> None:
    async with harness(authority, database_url, nats_url, tmp_path) as h:
        await h.publish_images()
        zone = await h.zone()
        # Each box has room for exactly one sliver of 1024 MB (2048 - 512 reserve).
        boxes = await h.boxes(4, zone_id=zone)
        second = ServiceProcess(
            "guificloud_provisioner",
            log_dir=tmp_path / "second",
            env=provisioner_env(database_url, nats_url),
        )
        (tmp_path / "second").mkdir()
        second.start()
        try:
            async with httpx.AsyncClient(
                base_url=second.url, timeout=20, headers=h.client.headers
            ) as other:

                def body(i: int) -> dict[str, object]:
                    return {
                        "name": f"race-{i}",
                        "group_id": str(h.group),
                        "image": {"name": "webapp"},
                        "sliver_defaults": {"memory_mb": 1024},
                        "placement": {"count": 2},
                    }

                responses = await asyncio.gather(
                    *(
                        (h.client if i % 2 else other).post("/api/v1/slices", json=body(i))
                        for i in range(6)
                    )
                )
        finally:
            second.stop()
        codes = sorted(r.status_code for r in responses)
        assert codes == [201, 201, 409, 409, 409, 409], [r.text for r in responses]
        for box in boxes:
            detail = (await h.client.get(f"/api/v1/boxes/{box.id}")).json()
            assert detail["allocated_memory_mb"] == 1024
        placed = [
            s["box_id"]
            for r in responses
            if r.status_code == 201
            for s in await h.slivers(r.json()["id"])
        ]
        assert sorted(placed) == sorted(str(b.id) for b in boxes)
