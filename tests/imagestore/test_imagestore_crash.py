"""The store dies in the middle of an upload, twice; the upload still ends right.

First after a chunk is on disk but before its offset is recorded (the client resends from
the recorded offset; the unrecorded tail is cut off), then after the blob is filed under its
digest but before the image is recorded (the client completes again). Never is there a
partial blob under a digest.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from guificloud.testing.processes import ServiceProcess
from tests.imagestore.helpers import ADMIN, UNSIGNED_OK, archive, meta, patch, sha256

pytestmark = pytest.mark.integration

FAILPOINTS = "GUIFICLOUD_FAILPOINTS"


@pytest.fixture(scope="module")
def imagestore_env() -> dict[str, str]:
    return {
        **UNSIGNED_OK,
        FAILPOINTS: "imagestore.upload.before_record=kill",
        "GUIFICLOUD_IMAGESTORE_UPLOAD_LEASE_S": "0.5",  # a dead writer's lease runs out fast
    }


async def until_not_busy(request: Callable[[], Awaitable[httpx.Response]]) -> httpx.Response:
    """Retry while the dead process's lease still holds the session (409, same offset)."""
    async with asyncio.timeout(10):
        while True:
            response = await request()
            if response.status_code != 409:
                return response
            await asyncio.sleep(0.1)


def restart(store: ServiceProcess, failpoints: str | None) -> None:
    assert store.process is not None
    store.process.wait(10)  # it killed itself
    store.env.pop(FAILPOINTS, None)
    if failpoints:
        store.env[FAILPOINTS] = failpoints
    store.start()


async def test_upload_survives_crashes_before_recording_and_after_filing(
    imagestore: ServiceProcess, blob_root: Path
) -> None:
    data = archive(200_000)
    blob = blob_root / "sha256" / sha256(data).removeprefix("sha256:")
    async with httpx.AsyncClient(base_url=imagestore.url, timeout=10.0, headers=ADMIN) as client:
        created = await client.post("/api/v1/uploads", json={**meta(), "size": len(data)})
        sid = created.json()["id"]
        with pytest.raises(httpx.TransportError):
            await patch(client, sid, 0, data[:120_000])

    restart(imagestore, "imagestore.blob.filed=kill")
    async with httpx.AsyncClient(base_url=imagestore.url, timeout=10.0, headers=ADMIN) as client:
        head = await client.head(f"/api/v1/uploads/{sid}")
        assert head.headers["upload-offset"] == "0", "the unrecorded chunk does not count"
        sent = await until_not_busy(lambda: patch(client, sid, 0, data))
        assert sent.status_code == 200 and sent.json()["offset"] == len(data)
        with pytest.raises(httpx.TransportError):
            await client.post(f"/api/v1/uploads/{sid}/complete")
    assert blob.read_bytes() == data, "filed whole, or not at all"

    restart(imagestore, None)
    async with httpx.AsyncClient(base_url=imagestore.url, timeout=10.0, headers=ADMIN) as client:
        done = await until_not_busy(lambda: client.post(f"/api/v1/uploads/{sid}/complete"))
        assert done.status_code == 201, done.text
        assert (done.json()["digest"], done.json()["state"]) == (sha256(data), "active")
        assert (await client.get(done.json()["url"])).content == data
    assert not (blob_root / "uploads" / f"{sid}.session").exists()
