"""Slices and slivers keep their images: the store learns from the provisioner's events
(published here on its stream, as the provisioner does) which images they use, refuses to
delete those and never collects their blobs."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from sqlalchemy import text

from guificloud.bus.connection import Bus
from guificloud.db.engine import make_engine
from guificloud.events.envelope import Envelope
from guificloud.events.provisioner import (
    SliceCreated,
    SliceDeleted,
    SliverCreated,
    SliverDeleted,
    SliverUpdated,
)
from tests.imagestore.helpers import ADMIN, archive, published, say

pytestmark = pytest.mark.integration


def slice_created(slice_id: UUID, digest: str) -> SliceCreated:
    return SliceCreated(
        slice_id=slice_id,
        name="lab",
        owner_group="upc",
        image_digest=digest,
        set_state="deploy",
        instance=1,
        expires_at=datetime.now(UTC) + timedelta(days=30),
    )


def sliver_created(slice_id: UUID, digest: str, sliver_id: UUID | None = None) -> SliverCreated:
    return SliverCreated(
        sliver_id=sliver_id or uuid4(),
        slice_id=slice_id,
        box_id=uuid4(),
        image_digest=digest,
        set_state="deploy",
        memory_mb=512,
        disk_mb=200,
        cpu_share=1.0,
    )


def sliver_deleted(sliver: SliverCreated, digest: str) -> SliverDeleted:
    return SliverDeleted(
        sliver_id=sliver.sliver_id,
        slice_id=sliver.slice_id,
        box_id=sliver.box_id,
        image_digest=digest,
        reason="deleted by its owner",
    )


async def slices_of(client: httpx.AsyncClient, image: dict[str, Any]) -> dict[str, Any]:
    """{slice id: (names the image, slivers on it)} as the store shows it."""
    response = await client.get(f"/api/v1/images/{image['id']}/slices")
    assert response.status_code == 200, response.text
    return {u["slice_id"]: (u["names_image"], u["slivers"]) for u in response.json()}


async def until_slices(
    client: httpx.AsyncClient, image: dict[str, Any], expected: dict[str, Any]
) -> None:
    async with asyncio.timeout(15):
        while (seen := await slices_of(client, image)) != expected:
            await asyncio.sleep(0.05)
    assert seen == expected


async def delete(client: httpx.AsyncClient, image: dict[str, Any]) -> httpx.Response:
    return await client.delete(f"/api/v1/images/{image['id']}", headers=ADMIN)


async def test_an_image_a_sliver_runs_is_kept_until_the_sliver_is_deleted(
    client: httpx.AsyncClient, provisioner: Bus
) -> None:
    slice_image = await published(client, archive(1000))
    override = await published(client, archive(1000))
    lab = uuid4()
    await say(provisioner, slice_created(lab, slice_image["digest"]))
    first = sliver_created(lab, slice_image["digest"])
    second = sliver_created(lab, slice_image["digest"])
    for sliver in (first, second):
        await say(provisioner, sliver)
    await until_slices(client, slice_image, {str(lab): (True, 2)})

    # the second sliver moves to an override image; a change that is not of the image
    # changes nothing
    moved = {"image_digest": override["digest"]}
    await say(provisioner, SliverUpdated(**sliver_ids(second), changed=moved))
    await say(provisioner, SliverUpdated(**sliver_ids(first), changed={"set_state": "start"}))
    await until_slices(client, override, {str(lab): (False, 1)})
    await until_slices(client, slice_image, {str(lab): (True, 1)})

    refused = await delete(client, override)
    assert refused.status_code == 409, refused.text
    body = refused.json()
    assert body["slices"] == [str(lab)] and body["slivers"] == 1 and body["boxes"] == []
    assert f"1 slice(s) with 1 sliver(s) on it: {lab}" in body["detail"]
    assert (await client.get(f"/api/v1/images/{override['id']}")).json()["state"] == "active"

    await say(provisioner, sliver_deleted(second, override["digest"]))
    await until_slices(client, override, {})
    assert (await delete(client, override)).status_code == 200

    # the slice's own image stays while the slice names it, even with no sliver on it
    await say(provisioner, sliver_deleted(first, slice_image["digest"]))
    await until_slices(client, slice_image, {str(lab): (True, 0)})
    still = await delete(client, slice_image)
    assert still.status_code == 409 and still.json()["slices"] == [str(lab)]
    await say(provisioner, SliceDeleted(slice_id=lab, reason="deleted by its owner"))
    await until_slices(client, slice_image, {})
    assert (await delete(client, slice_image)).status_code == 200


def sliver_ids(sliver: SliverCreated) -> dict[str, UUID]:
    return {"sliver_id": sliver.sliver_id, "slice_id": sliver.slice_id, "box_id": sliver.box_id}


async def test_deleting_a_slice_frees_every_sliver_of_it(
    client: httpx.AsyncClient, provisioner: Bus
) -> None:
    image = await published(client, archive(1000))
    other = await published(client, archive(1000))
    lab = uuid4()
    await say(provisioner, slice_created(lab, other["digest"]))
    for _ in range(3):
        await say(provisioner, sliver_created(lab, image["digest"]))
    await until_slices(client, image, {str(lab): (False, 3)})
    assert (await delete(client, image)).json()["slivers"] == 3

    await say(provisioner, SliceDeleted(slice_id=lab, reason="expired"))
    await until_slices(client, image, {})
    await until_slices(client, other, {})
    assert (await delete(client, image)).status_code == 200


async def test_a_sliver_event_handled_after_its_slice_was_deleted_changes_nothing(
    client: httpx.AsyncClient, provisioner: Bus, module_database_url: str
) -> None:
    """A retried event may be handled after later ones: a late ``SliverCreated`` of a
    deleted slice must not keep its image for ever."""
    image = await published(client, archive(1000))
    lab = uuid4()
    await say(provisioner, SliceDeleted(slice_id=lab, reason="deleted by its owner"))
    fact = sliver_created(lab, image["digest"])
    late = Envelope.wrap(fact, source="provisioner")
    await provisioner.publish(fact.subject(), late)
    await until_handled(module_database_url, late.id)
    assert await slices_of(client, image) == {}
    assert (await delete(client, image)).status_code == 200


async def until_handled(database_url: str, event_id: UUID) -> None:
    """The store's consumer recorded the event in its inbox (it committed its effect)."""
    engine = make_engine(database_url, pool_size=1)
    query = text("SELECT 1 FROM imagestore.inbox WHERE event_id = :id")
    try:
        async with asyncio.timeout(15):
            while True:
                async with engine.connect() as conn:
                    if (await conn.execute(query, {"id": event_id})).first():
                        return
                await asyncio.sleep(0.05)
    finally:
        await engine.dispose()


async def test_gc_keeps_the_blob_a_sliver_runs_even_of_a_deleted_image(
    client: httpx.AsyncClient, provisioner: Bus, blob_root: Path
) -> None:
    """The provisioner may place a sliver from an image deleted meanwhile: the box still
    needs its bytes, so the blob stays until the sliver goes."""
    data = archive(1500)
    image = await published(client, data)
    blob = blob_root / "sha256" / image["digest"].removeprefix("sha256:")
    assert (await delete(client, image)).status_code == 200
    lab = uuid4()
    sliver = sliver_created(lab, image["digest"])
    await say(provisioner, sliver)
    await until_slices(client, image, {str(lab): (False, 1)})

    report = (await client.post("/api/v1/gc", headers=ADMIN)).json()
    assert image["digest"] not in report["removed_blobs"] and blob.is_file()
    assert (await client.get(image["url"])).content == data

    await say(provisioner, sliver_deleted(sliver, image["digest"]))
    await until_slices(client, image, {})
    report = (await client.post("/api/v1/gc", headers=ADMIN)).json()
    assert image["digest"] in report["removed_blobs"] and not blob.exists()


async def test_gc_forgets_deleted_slices_and_slivers_only_after_a_day(
    client: httpx.AsyncClient, provisioner: Bus, module_database_url: str
) -> None:
    image = await published(client, archive(1000))
    lab = uuid4()
    sliver = sliver_created(lab, image["digest"])
    await say(provisioner, sliver)
    await until_slices(client, image, {str(lab): (False, 1)})
    gone = Envelope.wrap(SliceDeleted(slice_id=lab, reason="expired"), source="provisioner")
    await provisioner.publish(SliceDeleted.SUBJECT, gone)
    await until_handled(module_database_url, gone.id)

    count = "SELECT count(*) FROM imagestore.{} WHERE slice_id = :id"
    assert await scalar(module_database_url, count.format("sliver_usage"), lab) == 1
    await client.post("/api/v1/gc", headers=ADMIN)
    assert await scalar(module_database_url, count.format("slice_usage"), lab) == 1, "kept"
    age = "UPDATE imagestore.{} SET deleted_at = now() - interval '25 hours' WHERE slice_id = :id"
    for table in ("slice_usage", "sliver_usage"):
        await scalar(module_database_url, age.format(table), lab)
    report = (await client.post("/api/v1/gc", headers=ADMIN)).json()
    assert report["pruned_usage"] >= 2
    for table in ("slice_usage", "sliver_usage"):
        assert await scalar(module_database_url, count.format(table), lab) == 0


async def scalar(database_url: str, sql: str, slice_id: UUID) -> Any:
    """Run one statement on the store's database (committed); its first value, if any."""
    engine = make_engine(database_url, pool_size=1)
    try:
        async with engine.begin() as conn:
            result = await conn.execute(text(sql), {"id": slice_id})
            return result.scalar() if result.returns_rows else None
    finally:
        await engine.dispose()
