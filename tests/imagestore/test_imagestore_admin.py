"""Changing the store is for operators: deprecate, delete, garbage collection and keys need
the admin token; publishing and reading do not."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio

from guificloud.signing import generate_key
from guificloud.testing.processes import ServiceProcess
from tests.imagestore.helpers import ADMIN, archive, published

pytestmark = pytest.mark.integration

NO_TOKEN: dict[str, str] = {}
WRONG_TOKEN = {"Authorization": "Bearer not-the-admin-token"}
NOT_BEARER = {"Authorization": ADMIN["Authorization"].removeprefix("Bearer ")}


@pytest_asyncio.fixture
async def client(imagestore: ServiceProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=imagestore.url, timeout=10.0) as c:
        yield c


def operator_calls(image: dict[str, Any], public_key: str) -> list[tuple[str, str, Any]]:
    """(method, path, json body) of every call that needs the token."""
    return [
        ("POST", f"/api/v1/images/{image['id']}/deprecate", None),
        ("DELETE", f"/api/v1/images/{image['id']}", None),
        ("POST", "/api/v1/gc", None),
        (
            "POST",
            "/api/v1/keys",
            {"publisher": "guifi.net", "public_key": public_key, "names": ["*"]},
        ),
        ("DELETE", "/api/v1/keys/0123456789abcdef", None),
    ]


@pytest.mark.parametrize("headers", [NO_TOKEN, WRONG_TOKEN, NOT_BEARER])
async def test_operator_calls_without_the_token_are_refused_and_change_nothing(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    image = await published(client, archive(500))
    _, public = generate_key()
    for method, path, body in operator_calls(image, public):
        response = await client.request(method, path, json=body, headers=headers)
        assert response.status_code == 401, (method, path, response.text)
        assert "admin token required" in response.json()["detail"], response.text
    unchanged = (await client.get(f"/api/v1/images/{image['id']}")).json()
    assert unchanged["state"] == "active"
    keys = (await client.get("/api/v1/keys", params={"include_revoked": "true"})).json()
    assert public not in {k["public_key"] for k in keys}


async def test_with_the_token_the_operator_deprecates_and_deletes(
    client: httpx.AsyncClient,
) -> None:
    image = await published(client, archive(500))
    deprecated = await client.post(f"/api/v1/images/{image['id']}/deprecate", headers=ADMIN)
    assert deprecated.status_code == 200 and deprecated.json()["state"] == "deprecated"
    deleted = await client.delete(f"/api/v1/images/{image['id']}", headers=ADMIN)
    assert deleted.status_code == 200 and deleted.json()["state"] == "deleted"
    assert (await client.post("/api/v1/gc", headers=ADMIN)).status_code == 200


async def test_publishing_and_reading_need_no_token(client: httpx.AsyncClient) -> None:
    data = archive(700)
    image = await published(client, data)  # no Authorization header
    assert (await client.get(f"/api/v1/images/{image['id']}")).status_code == 200
    assert (await client.get(f"/api/v1/images/{image['id']}/usage")).json() == []
    assert (await client.get(f"/api/v1/images/{image['id']}/slices")).json() == []
    assert (await client.get(image["url"])).content == data
