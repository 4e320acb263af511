"""Retries with the same ``Idempotency-Key`` get the first response again: a trusted key, an
upload session, its completion and a single-request upload, each made once."""

from __future__ import annotations

from uuid import uuid4

import httpx
import pytest

from tests.imagestore.helpers import ADMIN, OCTETS, Publisher, archive, meta, patch, sha256

pytestmark = pytest.mark.integration

KEY = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"


def _twice_alike(first: httpx.Response, again: httpx.Response, status: int) -> None:
    assert first.status_code == again.status_code == status, again.text
    assert again.content == first.content
    assert again.headers[REPLAYED] == "true" and REPLAYED not in first.headers


async def test_a_key_trusted_twice_with_one_idempotency_key(client: httpx.AsyncClient) -> None:
    publisher, key = Publisher("idempotent"), str(uuid4())
    body = {"publisher": publisher.name, "public_key": publisher.public, "names": ["*"]}
    headers = {**ADMIN, KEY: key}
    first = await client.post("/api/v1/keys", json=body, headers=headers)
    again = await client.post("/api/v1/keys", json=body, headers=headers)
    _twice_alike(first, again, 201)
    # Without the key, the same request is a second one: refused, the key is trusted already.
    assert (await client.post("/api/v1/keys", json=body, headers=ADMIN)).status_code == 409


async def test_an_upload_session_and_its_completion_are_made_once(
    client: httpx.AsyncClient,
) -> None:
    data = archive(5000)
    body = {**meta(), "size": len(data), "digest": sha256(data)}
    start_key = {KEY: str(uuid4())}
    first = await client.post("/api/v1/uploads", json=body, headers=start_key)
    again = await client.post("/api/v1/uploads", json=body, headers=start_key)
    _twice_alike(first, again, 201)
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["Upload-Offset"] == "0"
    session_id = first.json()["id"]

    assert (await patch(client, session_id, 0, data)).status_code == 200
    done_key = {KEY: str(uuid4())}
    path = f"/api/v1/uploads/{session_id}/complete"
    completed = await client.post(path, headers=done_key)
    retried = await client.post(path, headers=done_key)
    _twice_alike(completed, retried, 201)
    assert completed.json()["digest"] == sha256(data)
    # Without the key, the session is gone.
    assert (await client.post(path)).status_code == 404


async def test_a_single_request_upload_is_published_once(client: httpx.AsyncClient) -> None:
    data, params, key = archive(4000), meta(), {KEY: str(uuid4())}
    headers = {**OCTETS, **key}
    first = await client.post("/api/v1/images", params=params, content=data, headers=headers)
    again = await client.post("/api/v1/images", params=params, content=data, headers=headers)
    _twice_alike(first, again, 201)

    other = await client.post(
        "/api/v1/images", params=params, content=archive(4000), headers=headers
    )
    assert other.status_code == 422 and "already used" in other.json()["detail"]


async def test_every_creating_route_takes_a_key(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/api/v1/openapi.json")).json()
    for route in (
        "/api/v1/images",
        "/api/v1/uploads",
        "/api/v1/uploads/{upload_id}/complete",
        "/api/v1/keys",
    ):
        params = spec["paths"][route]["post"].get("parameters", [])
        assert KEY in {p["name"] for p in params if p["in"] == "header"}, route
