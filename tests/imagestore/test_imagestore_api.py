"""Upload, list and download images through the running image store."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest

from guificloud.events.imagestore import ImagePublished
from guificloud.testing.processes import ServiceProcess
from guificloud.testing.servers import Servers
from tests.imagestore.helpers import archive, event, fields_named, sha256, unique_name, upload

pytestmark = pytest.mark.integration

SIZE = 300_000


async def test_upload_stores_the_blob_and_announces_it(
    client: httpx.AsyncClient, imagestore: ServiceProcess, blob_root: Path, servers: Servers
) -> None:
    data = archive(SIZE)
    response = await upload(client, data, channel="testing")

    assert response.status_code == 201, response.text
    image: dict[str, Any] = response.json()
    digest = sha256(data)
    assert image["digest"] == digest
    assert image["size"] == SIZE
    assert image["state"] == "active"
    assert image["url"] == f"/api/v1/blobs/{digest}"
    assert image["download_url"] == f"{imagestore.url}/api/v1/blobs/{digest}"
    assert (blob_root / "sha256" / digest.removeprefix("sha256:")).read_bytes() == data

    envelope = await event(
        servers.nats_url, ImagePublished.SUBJECT, lambda d: d["image_id"] == image["id"]
    )
    published = ImagePublished.model_validate(envelope.data)
    assert envelope.type == ImagePublished.TYPE and envelope.source == "imagestore"
    assert (published.digest, published.size, published.url) == (digest, SIZE, image["url"])
    assert (published.name, published.version, published.channel) == (
        image["name"],
        "1.0.0",
        "testing",
    )

    fetched = await client.get(f"/api/v1/images/{image['id']}")
    assert fetched.status_code == 200 and fetched.json() == image


async def test_download_whole_range_resume_and_not_modified(client: httpx.AsyncClient) -> None:
    data = archive(SIZE)
    image = (await upload(client, data)).json()
    url = image["url"]

    whole = await client.get(url)
    assert whole.status_code == 200
    assert whole.content == data
    assert whole.headers["etag"] == f'"{image["digest"]}"'
    assert whole.headers["accept-ranges"] == "bytes"

    part = await client.get(url, headers={"Range": "bytes=1000-1999"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 1000-1999/{SIZE}"
    assert part.content == data[1000:2000]

    half = SIZE // 2
    first = await client.get(url, headers={"Range": f"bytes=0-{half - 1}"})
    rest = await client.get(url, headers={"Range": f"bytes={half}-"})
    assert (first.status_code, rest.status_code) == (206, 206)
    assert rest.headers["content-range"] == f"bytes {half}-{SIZE - 1}/{SIZE}"
    assert sha256(first.content + rest.content) == image["digest"]

    cached = await client.get(url, headers={"If-None-Match": whole.headers["etag"]})
    assert cached.status_code == 304 and cached.content == b""

    beyond = await client.get(url, headers={"Range": f"bytes={SIZE}-"})
    assert beyond.status_code == 416
    assert beyond.headers["content-range"] == f"bytes */{SIZE}"

    head = await client.head(url)
    assert head.status_code == 200
    assert head.headers["content-length"] == str(SIZE) and head.content == b""


async def test_same_bytes_under_two_versions_are_stored_once(
    client: httpx.AsyncClient, blob_root: Path
) -> None:
    data, name = archive(1000), unique_name()
    first = await upload(client, data, name=name, version="1.0.0")
    second = await upload(client, data, name=name, version="1.0.1")
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["digest"] == second.json()["digest"]
    blob = blob_root / "sha256" / first.json()["digest"].removeprefix("sha256:")
    assert blob.read_bytes() == data

    listed = (await client.get("/api/v1/images", params={"name": name})).json()
    assert [i["version"] for i in listed] == ["1.0.1", "1.0.0"]


async def test_wrong_client_digest_is_refused_and_leaves_nothing(
    client: httpx.AsyncClient, blob_root: Path
) -> None:
    data, name = archive(5000), unique_name()
    response = await upload(client, data, name=name, digest="sha256:" + "0" * 64)

    assert response.status_code == 422
    assert "digest" in fields_named(response)
    assert not (blob_root / "sha256" / hashlib.sha256(data).hexdigest()).exists()
    assert list((blob_root / "uploads").iterdir()) == []
    assert (await client.get("/api/v1/images", params={"name": name})).json() == []


async def test_too_large_and_multipart_are_refused_and_leave_nothing(
    client: httpx.AsyncClient, blob_root: Path
) -> None:
    too_large = await upload(client, archive(1_000_001))  # the store's limit is 1_000_000
    assert too_large.status_code == 413
    assert "body" in fields_named(too_large)

    form = await client.post(
        "/api/v1/images",
        files={"file": ("img.tar.gz", b"bytes")},
        params={"name": unique_name(), "version": "1", "arch": "amd64", "format": "tar.gz"},
    )
    assert form.status_code == 415
    assert list((blob_root / "uploads").iterdir()) == []


async def test_a_published_version_is_immutable(client: httpx.AsyncClient) -> None:
    name = unique_name()
    assert (await upload(client, archive(100), name=name)).status_code == 201
    again = await upload(client, archive(100), name=name)
    assert again.status_code == 409
    assert "immutable" in again.json()["detail"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"arch": "sparc"}, "arch"),
        ({"format": "zip"}, "format"),
        ({"name": "Not A Name"}, "name"),
        ({"version": "../1"}, "version"),
        ({"digest": "md5:abc"}, "digest"),
    ],
)
async def test_bad_upload_parameters_name_the_field(
    client: httpx.AsyncClient, params: dict[str, str], field: str
) -> None:
    response = await upload(client, b"bytes", **params)
    assert response.status_code == 422
    assert field in fields_named(response)


async def test_empty_body_is_refused(client: httpx.AsyncClient) -> None:
    response = await upload(client, b"")
    assert response.status_code == 422
    assert "body" in fields_named(response)


async def test_unknown_image_and_blob_are_404_and_bad_digest_422(
    client: httpx.AsyncClient,
) -> None:
    assert (await client.get(f"/api/v1/images/{uuid4()}")).status_code == 404
    assert (await client.get(f"/api/v1/blobs/sha256:{'a' * 64}")).status_code == 404
    malformed = await client.get("/api/v1/blobs/sha256:xyz")
    assert malformed.status_code == 422
    assert "digest" in fields_named(malformed)


async def test_list_filters_by_arch_and_channel(client: httpx.AsyncClient) -> None:
    name = unique_name()
    for version, arch, channel in (
        ("1", "amd64", "stable"),
        ("2", "arm64", "stable"),
        ("3", "amd64", "testing"),
    ):
        response = await upload(
            client, archive(64), name=name, version=version, arch=arch, channel=channel
        )
        assert response.status_code == 201, response.text

    def versions(listed: httpx.Response) -> list[str]:
        return [i["version"] for i in listed.json()]

    assert versions(await client.get("/api/v1/images", params={"name": name})) == ["3", "2", "1"]
    assert versions(await client.get("/api/v1/images", params={"name": name, "arch": "amd64"})) == [
        "3",
        "1",
    ]
    assert versions(
        await client.get("/api/v1/images", params={"name": name, "channel": "stable"})
    ) == ["2", "1"]
    assert UUID((await client.get("/api/v1/images", params={"name": name})).json()[0]["id"])


async def test_openapi_documents_upload_and_download(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/api/v1/openapi.json")).json()["paths"]
    upload_body = paths["/api/v1/images"]["post"]["requestBody"]["content"]
    assert "application/octet-stream" in upload_body
    assert {"get", "head"} <= set(paths["/api/v1/blobs/{digest}"])
