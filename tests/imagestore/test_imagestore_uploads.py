"""Resumable uploads: sessions, offsets, interruptions, completion and its checks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from guificloud.events.imagestore import ImagePublished, ImageUploaded
from guificloud.testing.servers import Servers
from tests.imagestore.helpers import archive, fields_named, meta, patch, sha256, upload
from tests.imagestore.helpers import event as read_event

pytestmark = pytest.mark.integration

SIZE = 300_000


async def start(client: httpx.AsyncClient, data: bytes, **more: object) -> dict[str, Any]:
    response = await client.post("/api/v1/uploads", json={**meta(), "size": len(data), **more})
    assert response.status_code == 201, response.text
    assert response.headers["upload-offset"] == "0"
    session: dict[str, Any] = response.json()
    assert session["offset"] == 0
    return session


async def server_offset(client: httpx.AsyncClient, session_id: str) -> int:
    head = await client.head(f"/api/v1/uploads/{session_id}")
    assert head.status_code == 200
    return int(head.headers["upload-offset"])


async def send_rest(client: httpx.AsyncClient, session_id: str, data: bytes) -> None:
    """Send what the server misses, from the offset it reports, as a client resumes."""
    for _ in range(50):
        offset = await server_offset(client, session_id)
        if offset == len(data):
            return
        response = await patch(client, session_id, offset, data[offset:])
        if response.status_code == 409:  # our broken request still holds it: a moment
            await asyncio.sleep(0.05)
            continue
        assert response.status_code == 200, response.text
    raise AssertionError("the upload never completed")


async def broken_body(data: bytes) -> AsyncIterator[bytes]:
    """Sends ``data`` then breaks the connection, as a flaky link does."""
    for i in range(0, len(data), 16_384):
        yield data[i : i + 16_384]
        await asyncio.sleep(0)
    await asyncio.sleep(0.2)
    raise ConnectionResetError("link lost")


async def test_resumed_upload_gives_the_digest_of_a_single_upload(
    client: httpx.AsyncClient, servers: Servers, blob_root: Path
) -> None:
    data = archive(SIZE)
    session = await start(client, data)
    sid = str(session["id"])

    first = await patch(client, sid, 0, data[:100_000])
    assert first.status_code == 200, first.text
    assert first.json()["offset"] == 100_000
    assert first.headers["upload-offset"] == "100000"

    with pytest.raises(ConnectionResetError):  # the second part breaks off half-way
        await client.patch(
            f"/api/v1/uploads/{sid}",
            content=broken_body(data[100_000:200_000]),
            headers={"Upload-Offset": "100000"},
        )
    await asyncio.sleep(0.2)
    kept = await server_offset(client, sid)
    assert 100_000 <= kept <= 200_000

    await send_rest(client, sid, data)
    done = await client.post(f"/api/v1/uploads/{sid}/complete")
    assert done.status_code == 201, done.text
    image = done.json()
    assert (image["state"], image["digest"], image["size"]) == ("active", sha256(data), SIZE)
    assert image["id"] == session["image_id"]

    single = await upload(client, data, name=str(session["name"]), version="2.0.0")
    assert single.json()["digest"] == image["digest"]
    assert (blob_root / "sha256" / image["digest"].removeprefix("sha256:")).read_bytes() == data
    assert not list((blob_root / "uploads").iterdir())
    assert (await client.get(f"/api/v1/uploads/{sid}")).status_code == 404

    uploaded = await read_event(
        servers.nats_url, ImageUploaded.SUBJECT, lambda d: d["image_id"] == image["id"]
    )
    published = await read_event(
        servers.nats_url, ImagePublished.SUBJECT, lambda d: d["image_id"] == image["id"]
    )
    assert uploaded.data["digest"] == published.data["digest"] == sha256(data)
    assert published.data["url"] == f"/api/v1/blobs/{sha256(data)}"


async def test_wrong_offset_gets_409_with_the_servers_offset(client: httpx.AsyncClient) -> None:
    data = archive(2000)
    sid = str((await start(client, data))["id"])
    assert (await patch(client, sid, 0, data[:500])).status_code == 200

    for wrong in (0, 800):
        response = await patch(client, sid, wrong, data[wrong:])
        assert response.status_code == 409
        assert response.json()["offset"] == 500
        assert response.headers["upload-offset"] == "500"
    assert await server_offset(client, sid) == 500

    early = await client.post(f"/api/v1/uploads/{sid}/complete")
    assert early.status_code == 409 and early.json()["offset"] == 500

    too_much = await patch(client, sid, 500, data[500:] + b"extra")
    assert too_much.status_code == 413 and "body" in fields_named(too_much)
    assert await server_offset(client, sid) == 500

    missing = await client.patch(f"/api/v1/uploads/{sid}", content=b"x")
    assert missing.status_code == 422 and "Upload-Offset" in fields_named(missing)


async def test_session_for_a_taken_version_is_refused_and_the_version_is_held(
    client: httpx.AsyncClient,
) -> None:
    data = archive(1000)
    published = (await upload(client, data)).json()
    taken = {**meta(published["name"]), "size": 1000}
    refused = await client.post("/api/v1/uploads", json=taken)
    assert refused.status_code == 409 and "immutable" in refused.json()["detail"]

    session = await start(client, data)
    again = await upload(client, data, name=str(session["name"]))
    assert again.status_code == 409 and "being uploaded" in again.json()["detail"]
    listed = await client.get("/api/v1/uploads", params={"name": session["name"]})
    assert [s["id"] for s in listed.json()] == [session["id"]]
    assert (await client.get("/api/v1/images", params={"name": session["name"]})).json() == []
    uploading = await client.get(
        "/api/v1/images", params={"name": session["name"], "state": "uploading"}
    )
    assert [(i["state"], i["digest"]) for i in uploading.json()] == [("uploading", None)]


async def test_wrong_digest_ends_the_session_and_frees_the_version(
    client: httpx.AsyncClient, blob_root: Path
) -> None:
    data = archive(5000)
    session = await start(client, data, digest="sha256:" + "0" * 64)
    sid = str(session["id"])
    assert (await patch(client, sid, 0, data)).status_code == 200

    refused = await client.post(f"/api/v1/uploads/{sid}/complete")
    assert refused.status_code == 422 and "digest" in fields_named(refused)
    assert (await client.head(f"/api/v1/uploads/{sid}")).status_code == 404
    assert not (blob_root / "sha256" / sha256(data).removeprefix("sha256:")).exists()
    assert not (blob_root / "uploads" / f"{sid}.session").exists()
    again = {**meta(str(session["name"])), "size": len(data)}
    assert (await client.post("/api/v1/uploads", json=again)).status_code == 201


async def test_cancel_drops_the_bytes_and_the_reservation(
    client: httpx.AsyncClient, blob_root: Path
) -> None:
    data = archive(3000)
    session = await start(client, data)
    sid = str(session["id"])
    assert (await patch(client, sid, 0, data[:1000])).status_code == 200
    assert (blob_root / "uploads" / f"{sid}.session").stat().st_size == 1000

    assert (await client.delete(f"/api/v1/uploads/{sid}")).status_code == 204
    assert not (blob_root / "uploads" / f"{sid}.session").exists()
    assert (await client.get(f"/api/v1/uploads/{sid}")).status_code == 404
    assert (await upload(client, data, name=str(session["name"]))).status_code == 201


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"size": 0}, "size"),
        ({"size": 2_000_000}, "size"),  # above the store's limit
        ({"digest": "md5:abc"}, "digest"),
        ({"arch": "sparc"}, "arch"),
        ({"key_id": "not-hex"}, "key_id"),
    ],
)
async def test_bad_session_parameters_name_the_field(
    client: httpx.AsyncClient, change: dict[str, object], field: str
) -> None:
    response = await client.post("/api/v1/uploads", json={**meta(), "size": 10, **change})
    assert response.status_code in (413, 422), response.text
    assert field in fields_named(response)
