"""The slice ladder as boxes see it (their desired state) and as they drive it (reports):
register -> deploy -> start and back, sliver overrides, reset, and deletion."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from guificloud.events.agent import SliverStatus
from guificloud.testing.authority import TestAuthority
from tests.provisioner.slices_support import APP, Harness, SimBox, harness

pytestmark = pytest.mark.integration


async def _set(h: Harness, slice_id: str, state: str) -> dict[str, Any]:
    response = await h.client.patch(f"/api/v1/slices/{slice_id}", json={"set_state": state})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def _settle(h: Harness, slice_id: str, boxes: list[SimBox], state: str) -> dict[str, Any]:
    for box in boxes:
        desired = await h.act(box)
        assert {s["set_state"] for s in desired["slivers"]} <= {state, "register", "deploy"}
    return await h.wait(f"/api/v1/slices/{slice_id}", lambda s: s["settled"])  # type: ignore[no-any-return]


async def test_register_deploy_start_and_back(
    authority: TestAuthority, database_url: str, nats_url: str, tmp_path: Path
) -> None:
    async with harness(authority, database_url, nats_url, tmp_path) as h:
        await h.publish_images()
        boxes = await h.boxes(2, zone_id=await h.zone())
        slice_ = await h.create_slice(placement={"boxes": [str(b.id) for b in boxes]})
        sid = slice_["id"]
        assert slice_["set_state"] == "register" and slice_["settled"] is True
        desired = await h.desired(boxes[0])
        (spec,) = desired["slivers"]
        assert spec["set_state"] == "register" and spec["instance"] == 0
        assert spec["image"]["digest"] == APP and spec["slice_name"] == "s"
        await h.wait_event(f"box.{boxes[0].id}.sync", generation=desired["generation"])

        for state, actual in (("deploy", "deployed"), ("start", "started")):
            before = (await h.desired(boxes[0]))["generation"]
            assert (await _set(h, sid, state))["settled"] is False
            desired = await h.desired(boxes[0])
            assert desired["generation"] > before
            assert desired["slivers"][0]["set_state"] == state
            await h.wait_event(f"box.{boxes[0].id}.sync", generation=desired["generation"])
            for box in boxes:
                await h.act(box)
            settled = await h.wait(f"/api/v1/slices/{sid}", lambda s: s["settled"])
            assert settled["counts"] == {actual: 2}
            await h.wait_event(f"provisioner.sliver.{actual}", box_id=boxes[1].id)
            await h.wait_event("provisioner.slice.settled", slice_id=sid, set_state=state)

        # and back down the ladder
        await _set(h, sid, "register")
        for box in boxes:
            await h.act(box)
        back = await h.wait(f"/api/v1/slices/{sid}", lambda s: s["settled"])
        assert back["counts"] == {"registered": 2}
        sliver = (await h.slivers(sid))[0]
        history = (await h.client.get(f"/api/v1/slivers/{sliver['id']}")).json()["history"]
        assert [t["to_state"] for t in history] == [
            "registered",
            "deployed",
            "started",
            "registered",
        ]
        assert h.seen("provisioner.slice.updated", slice_id=sid)

        put = await h.client.put(
            f"/api/v1/slices/{sid}",
            json={"name": "s", "description": "", "group_id": str(h.group), "set_state": "start"},
        )
        assert put.status_code == 422 and put.json()["detail"][0]["loc"] == ["body", "set_state"]
        elsewhere = str(await h.new_group())
        put = await h.client.put(
            f"/api/v1/slices/{sid}",
            json={"name": "s", "description": "", "group_id": elsewhere},
        )
        assert put.status_code == 422 and put.json()["detail"][0]["loc"] == ["body", "group_id"]
        put = await h.client.put(
            f"/api/v1/slices/{sid}", json={"name": "renamed", "description": "d"}
        )
        assert put.status_code == 200 and put.json()["set_state"] == "register"
        assert put.json()["group_id"] == str(h.group)
        assert (await h.desired(boxes[0]))["slivers"][0]["slice_name"] == "renamed"
        listed = await h.client.get("/api/v1/slices", params={"group_id": str(h.group)})
        assert [s["id"] for s in listed.json()] == [sid]
        operator = h.headers(h.authority.operator())
        other = await h.client.get(
            "/api/v1/slices", params={"group_id": elsewhere}, headers=operator
        )
        assert other.status_code == 200 and other.json() == []


async def test_sliver_overrides_lower_the_state_and_change_the_image(
    authority: TestAuthority, database_url: str, nats_url: str, tmp_path: Path
) -> None:
    async with harness(authority, database_url, nats_url, tmp_path) as h:
        await h.publish_images()
        *boxes, third = await h.boxes(3, zone_id=await h.zone())
        slice_ = await h.create_slice(
            placement={"boxes": [str(b.id) for b in boxes]}, set_state="start"
        )
        sid = slice_["id"]
        one = next(s for s in await h.slivers(sid) if s["box_id"] == str(boxes[0].id))
        patched = await h.client.patch(f"/api/v1/slivers/{one['id']}", json={"set_state": "deploy"})
        assert patched.status_code == 200, patched.text
        assert patched.json()["set_state"] == "deploy"
        assert patched.json()["effective_set_state"] == "deploy"
        assert (await h.desired(boxes[0]))["slivers"][0]["set_state"] == "deploy"
        assert (await h.desired(boxes[1]))["slivers"][0]["set_state"] == "start"
        await _settle(h, sid, boxes, "start")
        counts = (await h.client.get(f"/api/v1/slices/{sid}")).json()["counts"]
        assert counts == {"deployed": 1, "started": 1}
        await h.wait_event("provisioner.sliver.updated", sliver_id=one["id"])

        # a higher override never raises: effective = min(sliver, slice)
        await _set(h, sid, "register")
        await h.client.patch(f"/api/v1/slivers/{one['id']}", json={"set_state": "start"})
        for box in boxes:
            assert (await h.desired(box))["slivers"][0]["set_state"] == "register"
        await _set(h, sid, "deploy")
        assert (await h.desired(boxes[0]))["slivers"][0]["set_state"] == "deploy"

        digest = "sha256:" + "d1" * 32  # the distro image (arch all) as the sliver's image
        image = await h.client.patch(
            f"/api/v1/slivers/{one['id']}", json={"image": {"digest": digest}}
        )
        assert image.status_code == 200 and image.json()["image"]["digest"] == digest
        assert (await h.desired(boxes[0]))["slivers"][0]["image"]["digest"] == digest
        wrong = await h.client.patch(
            f"/api/v1/slivers/{one['id']}", json={"image": {"name": "webapp", "version": "9"}}
        )
        assert wrong.status_code == 422 and wrong.json()["detail"][0]["loc"] == ["body", "image"]
        back = await h.client.patch(f"/api/v1/slivers/{one['id']}", json={"image": None})
        assert back.json()["image"]["digest"] == APP
        bad = await h.client.patch(f"/api/v1/slivers/{one['id']}", json={"set_state": "run"})
        assert bad.status_code == 422

        # one more sliver on a box of our choice, and taking it away again
        extra = await h.client.post(f"/api/v1/slices/{sid}/slivers", json={"box_id": str(third.id)})
        assert extra.status_code == 201, extra.text
        assert extra.json()["effective_set_state"] == "deploy"
        again = await h.client.post(f"/api/v1/slices/{sid}/slivers", json={"box_id": str(third.id)})
        assert again.status_code == 409 and again.json()["detail"][0]["loc"] == ["body", "box_id"]
        assert [s["sliver_id"] for s in (await h.desired(third))["slivers"]] == [extra.json()["id"]]
        assert (await h.client.delete(f"/api/v1/slivers/{extra.json()['id']}")).status_code == 202
        assert (await h.desired(third))["slivers"] == []
        await h.act(third)
        gone = await h.wait_event("provisioner.sliver.deleted", sliver_id=extra.json()["id"])
        assert gone["reason"] == "deleted by its owner"
        assert (await h.client.get(f"/api/v1/slivers/{extra.json()['id']}")).status_code == 404


async def test_reset_renew_and_old_instances_ignored(
    authority: TestAuthority, database_url: str, nats_url: str, tmp_path: Path
) -> None:
    async with harness(authority, database_url, nats_url, tmp_path) as h:
        await h.publish_images()
        (box,) = await h.boxes(1, zone_id=await h.zone())
        slice_ = await h.create_slice(placement={"count": 1}, set_state="start")
        sid = slice_["id"]
        await _settle(h, sid, [box], "start")
        (sliver,) = await h.slivers(sid)
        assert sliver["state"] == "started" and sliver["instance"] == 0

        reset = await h.client.post(f"/api/v1/slices/{sid}/reset")
        assert reset.status_code == 200 and reset.json()["instance"] == 1
        await h.wait_event("provisioner.slice.reset", slice_id=sid, instance=1)
        desired = await h.desired(box)
        assert desired["slivers"][0]["instance"] == 1
        (sliver,) = await h.slivers(sid)
        assert sliver["state"] == "registered" and sliver["reason"] == "reset to instance 1"
        # A late report about instance 0 says nothing about instance 1.
        old = SliverStatus(sliver_id=sliver["id"], instance=0, state="fail_start", reason="old")
        await h.report(box, generation=desired["generation"], slivers=[old])
        await _settle(h, sid, [box], "start")
        (sliver,) = await h.slivers(sid)
        assert sliver["state"] == "started" and sliver["instance"] == 1
        assert not h.seen("provisioner.sliver.fail_start")

        before = slice_["expires_at"]
        renewed = await h.client.post(f"/api/v1/slices/{sid}/renew")
        assert renewed.status_code == 200 and renewed.json()["expires_at"] > before
        await h.wait_event("provisioner.slice.renewed", slice_id=sid)


async def test_delete_takes_slivers_off_boxes_then_the_slice_goes(
    authority: TestAuthority, database_url: str, nats_url: str, tmp_path: Path
) -> None:
    async with harness(authority, database_url, nats_url, tmp_path) as h:
        await h.publish_images()
        boxes = await h.boxes(2, zone_id=await h.zone())
        slice_ = await h.create_slice(placement={"count": 2}, set_state="deploy")
        sid = slice_["id"]
        await _settle(h, sid, boxes, "deploy")
        assert (await h.client.delete(f"/api/v1/slices/{sid}")).status_code == 202
        await h.wait_event("provisioner.slice.deleted", slice_id=sid, reason="deleted")
        gone = (await h.client.get(f"/api/v1/slices/{sid}")).json()
        assert gone["deleted_at"] is not None
        assert (await h.client.get("/api/v1/slices")).json() == []
        assert (
            await h.client.patch(f"/api/v1/slices/{sid}", json={"set_state": "start"})
        ).status_code == 409
        for box in boxes:
            assert (await h.desired(box))["slivers"] == []
        # The first box still reports its sliver: it stays until the box says it is gone.
        (first, second) = boxes
        held = next(s for s in await h.slivers(sid) if s["box_id"] == str(first.id))
        await h.report(
            first,
            generation=(await h.desired(first))["generation"],
            slivers=[SliverStatus(sliver_id=held["id"], instance=0, state="deployed")],
        )
        await h.act(second)
        await h.wait_event("provisioner.sliver.deleted", box_id=second.id, reason="slice deleted")
        assert len(await h.slivers(sid)) == 1
        await h.act(first)
        await h.wait_event("provisioner.sliver.deleted", box_id=first.id)
        assert (await h.client.get(f"/api/v1/slices/{sid}")).status_code == 404
        for box in boxes:
            detail = (await h.client.get(f"/api/v1/boxes/{box.id}")).json()
            assert detail["allocated_memory_mb"] == 0 and detail["allocated_disk_mb"] == 0
