"""The store refuses bytes that are not the archive their format says, in one request and
in a session, saying what they look like instead."""

from __future__ import annotations

import io
import lzma
import tarfile

import httpx
import pytest

from tests.imagestore.helpers import archive, meta, patch, upload

pytestmark = pytest.mark.integration

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(300)


def plain_tar() -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        info = tarfile.TarInfo("sbin/init")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"#!/"))
    return out.getvalue()


def body_error(response: httpx.Response) -> str:
    detail = response.json()["detail"]
    assert isinstance(detail, list) and detail[0]["loc"][-1] == "body", detail
    return str(detail[0]["msg"])


async def test_a_png_uploaded_as_tar_gz_is_refused_naming_what_it_is(
    client: httpx.AsyncClient,
) -> None:
    m = meta()
    response = await upload(client, PNG, name=m["name"])
    assert response.status_code == 422, response.text
    message = body_error(response)
    assert "not a tar.gz archive" in message and "PNG" in message
    assert (await client.get("/api/v1/images", params={"name": m["name"]})).json() == []


@pytest.mark.parametrize(
    ("format", "data", "looks"),
    [
        ("tar", b"\x1f\x8b" + bytes(1000), "gzip"),
        ("tar.xz", plain_tar(), "plain tar"),
        ("tar.gz", lzma.compress(plain_tar()), "xz"),
    ],
)
async def test_each_format_is_checked(
    client: httpx.AsyncClient, format: str, data: bytes, looks: str
) -> None:
    response = await upload(client, data, format=format)
    assert response.status_code == 422, response.text
    assert f"not a {format} archive" in body_error(response) and looks in body_error(response)


async def test_real_archives_of_each_format_are_taken(client: httpx.AsyncClient) -> None:
    tar = plain_tar()
    for format, data in (("tar", tar), ("tar.xz", lzma.compress(tar)), ("tar.gz", archive(0))):
        response = await upload(client, data, format=format)
        assert response.status_code == 201, (format, response.text)


async def test_a_session_upload_of_a_png_is_refused_at_completion(
    client: httpx.AsyncClient,
) -> None:
    m = meta()
    created = (await client.post("/api/v1/uploads", json={**m, "size": len(PNG)})).json()
    assert (await patch(client, created["id"], 0, PNG)).status_code == 200
    done = await client.post(f"/api/v1/uploads/{created['id']}/complete")
    assert done.status_code == 422, done.text
    assert "PNG" in body_error(done)
    assert (await client.get("/api/v1/images", params={"name": m["name"]})).json() == []
