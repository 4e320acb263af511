"""Reconciliation over time: lost commands resent and given up with the reason, box loss
and re-placement only where the slice allows it, and expiry."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from guificloud.events.agent import SliverStatus
from guificloud.testing.authority import TestAuthority
from tests.provisioner.slices_support import harness

pytestmark = pytest.mark.integration


async def test_reconciler_resends_sync_then_gives_up_and_heals(
    authority: TestAuthority, database_url: str, nats_url: str, tmp_path: Path
) -> None:
    async with harness(
        authority,
        database_url,
        nats_url,
        tmp_path,
        reconcile_backoff_s="0.1",
        reconcile_max_attempts="3",
    ) as h:
        await h.publish_images()
        (box,) = await h.boxes(1, zone_id=await h.zone())
        slice_ = await h.create_slice(placement={"count": 1}, set_state="deploy")
        generation = (await h.desired(box))["generation"]
        # The box never acts: the sync is sent again, at the same generation, three times.
        failed = await h.wait_event("provisioner.sliver.fail_allocate", slice_id=slice_["id"])
        assert failed["reason"] == "box did not reach deploy after 3 attempts"
        assert failed["previous"] == "registered"
        syncs = h.seen(f"box.{box.id}.sync", generation=generation)
        assert len(syncs) == 4, syncs
        settled = await h.wait_event("provisioner.slice.settled", slice_id=slice_["id"])
        assert settled["failed"] == 1
        await asyncio.sleep(0.5)
        assert len(h.seen(f"box.{box.id}.sync", generation=generation)) == 4, "gave up: no more"

        # The box was only slow: once it reports, the sliver is what it says.
        await h.act(box)
        await h.wait_event("provisioner.sliver.deployed", slice_id=slice_["id"])
        (sliver,) = await h.slivers(slice_["id"])
        assert sliver["state"] == "deployed" and sliver["reason"] is None


async def test_box_loss_replaces_only_where_allowed_and_cleans_up_on_return(
    authority: TestAuthority, database_url: str, nats_url: str, tmp_path: Path
) -> None:
    async with harness(authority, database_url, nats_url, tmp_path, replace_grace_s="0.5") as h:
        await h.publish_images()
        b0, b1, b2 = await h.boxes(3, zone_id=await h.zone())
        movable = await h.create_slice(
            name="movable", placement={"boxes": [str(b0.id), str(b1.id)]}, replace_on_loss=True
        )
        pinned = await h.create_slice(name="pinned", placement={"boxes": [str(b0.id)]})
        lost = next(s for s in await h.slivers(movable["id"]) if s["box_id"] == str(b0.id))
        (kept,) = await h.slivers(pinned["id"])

        await h.offline(b0)
        await h.wait_event("provisioner.sliver.offline", sliver_id=lost["id"])
        await h.wait_event("provisioner.sliver.offline", sliver_id=kept["id"])
        assert (await h.client.get(f"/api/v1/slices/{pinned['id']}")).json()["counts"] == {
            "offline": 1
        }
        created = await h.wait_event("provisioner.sliver.created", replaces=lost["id"])
        assert created["box_id"] == str(b2.id) and created["slice_id"] == movable["id"]
        assert [s["sliver_id"] for s in (await h.desired(b2))["slivers"]] == [created["sliver_id"]]
        await asyncio.sleep(1.0)  # well past the grace: the pinned slice still only waits
        assert len(await h.slivers(pinned["id"])) == 1
        assert not h.seen("provisioner.sliver.created", slice_id=pinned["id"], replaces=kept["id"])
        assert len(h.seen("provisioner.sliver.created", slice_id=movable["id"])) == 3

        await h.online(b0)
        desired = await h.desired(b0)
        assert [s["sliver_id"] for s in desired["slivers"]] == [kept["id"]]
        await h.wait_event(f"box.{b0.id}.sync", generation=desired["generation"])
        await h.act(b0)  # the box holds only what it is asked to: the stale sliver goes
        gone = await h.wait_event("provisioner.sliver.deleted", sliver_id=lost["id"])
        assert gone["reason"] == f"replaced by {created['sliver_id']}"
        await h.wait_event("provisioner.sliver.registered", sliver_id=kept["id"])
        boxes = {s["box_id"] for s in await h.slivers(movable["id"])}
        assert boxes == {str(b1.id), str(b2.id)}


async def test_expiry_warns_once_then_deletes(
    authority: TestAuthority, database_url: str, nats_url: str, tmp_path: Path
) -> None:
    async with harness(
        authority, database_url, nats_url, tmp_path, slice_expiry_warning_days="1"
    ) as h:
        await h.publish_images()
        (box,) = await h.boxes(1, zone_id=await h.zone())
        short = await h.create_slice(placement={"count": 1}, expires_in_days=1.5 / 86400)
        long = await h.create_slice(placement={"boxes": [str(box.id)]}, expires_in_days=2)
        warned = await h.wait_event("provisioner.slice.expiring", slice_id=short["id"])
        assert warned["group_id"] == str(h.group)
        assert warned["owner_group"] == f"group-{str(h.group)[:8]}"  # its name then
        await h.wait_event("provisioner.slice.deleted", slice_id=short["id"], reason="expired")
        assert len(h.seen("provisioner.slice.expiring", slice_id=short["id"])) == 1
        assert [s["slice_id"] for s in (await h.desired(box))["slivers"]] == [long["id"]]
        assert not h.seen("provisioner.slice.expiring", slice_id=long["id"])
        await h.act(box)
        await h.wait_event(
            "provisioner.sliver.deleted", slice_id=short["id"], reason="slice expired"
        )
        assert (await h.client.get(f"/api/v1/slices/{short['id']}")).status_code == 404


async def test_provisioner_restart_mid_deploy_converges(
    authority: TestAuthority, database_url: str, nats_url: str, tmp_path: Path
) -> None:
    async with harness(authority, database_url, nats_url, tmp_path, reconcile_backoff_s="0.3") as h:
        await h.publish_images()
        boxes = await h.boxes(2, zone_id=await h.zone())
        slice_ = await h.create_slice(placement={"count": 2})
        response = await h.client.patch(
            f"/api/v1/slices/{slice_['id']}", json={"set_state": "deploy"}
        )
        assert response.status_code == 200
        assert h.proc is not None
        desired = await h.desired(boxes[0])
        h.proc.kill()  # as a crash: nothing cleaned up
        # One box acts while the provisioner is down; its report waits in the stream.
        done = [
            SliverStatus(sliver_id=s["sliver_id"], instance=0, state="deployed")
            for s in desired["slivers"]
        ]
        await h.report(boxes[0], generation=desired["generation"], slivers=done)
        h.events.clear()
        h.proc.start()
        # The other box lost its command: the reconciler (level-triggered) tells it again.
        await h.wait_event(f"box.{boxes[1].id}.sync")
        await h.act(boxes[1])
        settled = await h.wait(f"/api/v1/slices/{slice_['id']}", lambda s: s["settled"])
        assert settled["counts"] == {"deployed": 2}
