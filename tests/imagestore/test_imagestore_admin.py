"""The deployment's images and the store itself are the operators': deprecating or deleting
an image of no group, garbage collection and keys need an operator (the admin token here);
reading and downloading need nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

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
ADMIN_ACCOUNT = UUID(int=0)
"""Who the admin token speaks as."""


@pytest_asyncio.fixture
async def anonymous(imagestore: ServiceProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=imagestore.url, timeout=10.0) as c:
        yield c


def operator_calls(image: dict[str, Any], public_key: str) -> list[tuple[str, str, Any]]:
    """(method, path, json body) of every call that needs an operator."""
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


@pytest.mark.parametrize(
    ("headers", "says"),
    [
        (NO_TOKEN, "authentication required"),
        (WRONG_TOKEN, "malformed access token"),
        (NOT_BEARER, "authentication required"),
    ],
    ids=["none", "wrong", "not-bearer"],
)
async def test_operator_calls_without_the_token_are_refused_and_change_nothing(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient, headers: dict[str, str], says: str
) -> None:
    image = await published(client, archive(500))
    _, public = generate_key()
    for method, path, body in operator_calls(image, public):
        response = await anonymous.request(method, path, json=body, headers=headers)
        assert response.status_code == 401, (method, path, response.text)
        assert says in response.json()["detail"], response.text
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    unchanged = (await anonymous.get(f"/api/v1/images/{image['id']}")).json()
    assert unchanged["state"] == "active"
    keys = (await anonymous.get("/api/v1/keys", params={"include_revoked": "true"})).json()
    assert public not in {k["public_key"] for k in keys}


async def test_with_the_token_the_operator_deprecates_and_deletes(
    client: httpx.AsyncClient,
) -> None:
    image = await published(client, archive(500))
    assert (image["group_id"], image["published_by"]) == (None, str(ADMIN_ACCOUNT))
    deprecated = await client.post(f"/api/v1/images/{image['id']}/deprecate")
    assert deprecated.status_code == 200 and deprecated.json()["state"] == "deprecated"
    deleted = await client.delete(f"/api/v1/images/{image['id']}")
    assert deleted.status_code == 200 and deleted.json()["state"] == "deleted"
    assert (await client.post("/api/v1/gc")).status_code == 200


async def test_reading_and_downloading_need_no_token(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    data = archive(700)
    image = await published(client, data)
    assert (await anonymous.get(f"/api/v1/images/{image['id']}")).status_code == 200
    listed = await anonymous.get("/api/v1/images", params={"name": image["name"]})
    assert [i["id"] for i in listed.json()] == [image["id"]]
    assert (await anonymous.get(f"/api/v1/images/{image['id']}/usage")).json() == []
    assert (await anonymous.get(f"/api/v1/images/{image['id']}/slices")).json() == []
    assert (await anonymous.get("/api/v1/keys")).status_code == 200
    assert (await anonymous.get(image["url"])).content == data
    assert (await anonymous.head(image["url"])).status_code == 200
