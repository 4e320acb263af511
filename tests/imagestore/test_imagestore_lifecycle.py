"""Deprecate, delete (refused while a box uses the image) and garbage collection.

Which boxes use which image the store learns from the provisioner's events; the test plays
the provisioner by publishing ``provisioner.box.ready`` / ``.deploying`` on its stream.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest

from guificloud.bus.connection import Bus
from guificloud.events.imagestore import ImageDeleted, ImageDeprecated
from guificloud.events.provisioner import BoxDeploying, BoxReady
from guificloud.testing.servers import Servers
from tests.imagestore.helpers import (
    ADMIN,
    UNSIGNED_OK,
    archive,
    event,
    meta,
    patch,
    published,
    say,
    sha256,
    upload,
)

pytestmark = pytest.mark.integration

SESSION_TTL_S = 1.5


@pytest.fixture(scope="module")
def imagestore_env() -> dict[str, str]:
    return {**UNSIGNED_OK, "GUIFICLOUD_IMAGESTORE_UPLOAD_SESSION_TTL_S": str(SESSION_TTL_S)}


async def usage(client: httpx.AsyncClient, image_id: str) -> set[UUID]:
    response = await client.get(f"/api/v1/images/{image_id}/usage")
    assert response.status_code == 200
    return {UUID(u["box_id"]) for u in response.json()}


async def until_usage(client: httpx.AsyncClient, image_id: str, expected: set[UUID]) -> None:
    async with asyncio.timeout(15):
        while await usage(client, image_id) != expected:
            await asyncio.sleep(0.05)


async def test_deprecated_image_is_announced_listed_and_still_downloadable(
    client: httpx.AsyncClient, servers: Servers
) -> None:
    data = archive(1000)
    image = await published(client, data)
    response = await client.post(f"/api/v1/images/{image['id']}/deprecate", headers=ADMIN)
    assert response.status_code == 200 and response.json()["state"] == "deprecated"
    again = await client.post(f"/api/v1/images/{image['id']}/deprecate", headers=ADMIN)
    assert again.status_code == 200 and again.json()["state"] == "deprecated"

    deprecated = await event(
        servers.nats_url, ImageDeprecated.SUBJECT, lambda d: d["image_id"] == image["id"]
    )
    assert deprecated.data["digest"] == image["digest"]
    listed = (await client.get("/api/v1/images", params={"name": image["name"]})).json()
    assert [i["state"] for i in listed] == ["deprecated"]
    assert (await client.get(image["url"])).content == data
    assert (
        await client.post(f"/api/v1/images/{uuid4()}/deprecate", headers=ADMIN)
    ).status_code == 404


async def test_delete_is_refused_while_a_box_uses_the_image(
    client: httpx.AsyncClient, provisioner: Bus, servers: Servers, blob_root: Path
) -> None:
    data = archive(2000)
    image = await published(client, data)
    newer = await published(client, archive(2000), name=image["name"], version="1.0.1")
    box = uuid4()
    await say(provisioner, BoxReady(box_id=box, distro_digest=image["digest"]))
    await until_usage(client, image["id"], {box})

    refused = await client.delete(f"/api/v1/images/{image['id']}", headers=ADMIN)
    assert refused.status_code == 409
    assert refused.json()["boxes"] == [str(box)]
    assert str(box) in refused.json()["detail"]
    assert (await client.get(f"/api/v1/images/{image['id']}")).json()["state"] == "active"

    await say(provisioner, BoxDeploying(box_id=box, distro_digest=newer["digest"]))
    await until_usage(client, image["id"], set())
    assert await usage(client, newer["id"]) == {box}

    deleted = await client.delete(f"/api/v1/images/{image['id']}", headers=ADMIN)
    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["state"] == "deleted" and deleted.json()["deleted_at"]
    announced = await event(
        servers.nats_url, ImageDeleted.SUBJECT, lambda d: d["image_id"] == image["id"]
    )
    assert announced.data["digest"] == image["digest"]
    listed = (await client.get("/api/v1/images", params={"name": image["name"]})).json()
    assert [i["version"] for i in listed] == ["1.0.1"]
    reused = await upload(client, data, name=image["name"])
    assert reused.status_code == 409 and "was deleted" in reused.json()["detail"]

    in_use = await client.delete(f"/api/v1/images/{newer['id']}", headers=ADMIN)
    assert in_use.status_code == 409 and in_use.json()["boxes"] == [str(box)]


async def test_gc_removes_unreferenced_blobs_and_leaves_used_ones(
    client: httpx.AsyncClient, provisioner: Bus, blob_root: Path
) -> None:
    shared, alone, running = archive(3000), archive(3000), archive(3000)
    first = await published(client, shared)
    await published(client, shared)  # another image, the same bytes
    lonely = await published(client, alone)
    in_use = await published(client, running)
    box = uuid4()
    await say(provisioner, BoxReady(box_id=box, distro_digest=in_use["digest"]))
    await until_usage(client, in_use["id"], {box})
    stray = blob_root / "sha256" / ("f" * 64)
    stray.write_bytes(b"left by a crash between filing and recording")

    for image in (first, lonely):
        assert (
            await client.delete(f"/api/v1/images/{image['id']}", headers=ADMIN)
        ).status_code == 200
    report = (await client.post("/api/v1/gc", headers=ADMIN)).json()

    def stored(data: bytes) -> bool:
        return (blob_root / "sha256" / sha256(data).removeprefix("sha256:")).is_file()

    assert set(report["removed_blobs"]) >= {lonely["digest"], "sha256:" + "f" * 64}
    assert not stored(alone) and not stray.exists()
    assert stored(shared) and stored(running)
    assert (await client.get(in_use["url"])).status_code == 200
    assert (await client.get(lonely["url"])).status_code == 404


async def test_gc_drops_expired_sessions_and_orphan_files_but_not_live_sessions(
    client: httpx.AsyncClient, blob_root: Path
) -> None:
    uploads = blob_root / "uploads"

    async def session(size: int) -> dict[str, Any]:
        response = await client.post("/api/v1/uploads", json={**meta(), "size": size})
        assert response.status_code == 201
        created: dict[str, Any] = response.json()
        assert (await patch(client, created["id"], 0, archive(size // 2))).status_code == 200
        return created

    old = await session(1000)
    await asyncio.sleep(SESSION_TTL_S + 0.2)
    live = await session(1000)
    orphan = uploads / f"{uuid4()}.session"
    orphan.write_bytes(b"a session the database never recorded")

    report = (await client.post("/api/v1/gc", headers=ADMIN)).json()
    assert report["expired_sessions"] >= 1 and report["removed_uploads"] >= 2
    assert not (uploads / f"{old['id']}.session").exists() and not orphan.exists()
    assert (uploads / f"{live['id']}.session").stat().st_size == 500
    assert (await client.head(f"/api/v1/uploads/{old['id']}")).status_code == 404
    again = await client.post("/api/v1/uploads", json={**meta(old["name"]), "size": 10})
    assert again.status_code == 201, "the expired session's version is free again"
    assert (await client.head(f"/api/v1/uploads/{live['id']}")).status_code == 200
