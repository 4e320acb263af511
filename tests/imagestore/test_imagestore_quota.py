"""A group's image quota (``Quotas.images``): its images count from their reservation (an
upload session opened) until they are deleted; the check holds under concurrent publishes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
import pytest_asyncio

from guificloud.events.identity import Quotas
from guificloud.testing.authority import TestAuthority
from guificloud.testing.processes import ServiceProcess
from guificloud.testing.servers import Servers
from tests.imagestore.helpers import archive, meta, patch, published, tell_group, upload

pytestmark = pytest.mark.integration


class Group:
    """A group told to the store, and a publisher of it speaking through ``client``."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        authority: TestAuthority,
        servers: Servers,
        database_url: str,
    ) -> None:
        self.id: UUID = uuid4()
        self.client = client
        self.authority = authority
        self.servers = servers
        self.database_url = database_url
        self.headers = authority.headers(authority.member(groups={self.id: {"publisher"}}))

    async def quota(self, images: int | None) -> None:
        await tell_group(
            self.authority,
            self.servers.nats_url,
            self.database_url,
            self.id,
            Quotas(images=images),
        )

    async def upload(self, size: int = 500) -> httpx.Response:
        return await upload(self.client, archive(size), group_id=str(self.id), headers=self.headers)

    async def publish(self) -> dict[str, Any]:
        return await published(
            self.client, archive(500), group_id=str(self.id), headers=self.headers
        )

    async def open(self, data: bytes) -> httpx.Response:
        body = {**meta(), "size": len(data), "group_id": str(self.id)}
        return await self.client.post("/api/v1/uploads", json=body, headers=self.headers)


@pytest_asyncio.fixture
async def group(
    imagestore: ServiceProcess, authority: TestAuthority, servers: Servers, module_database_url: str
) -> AsyncIterator[Group]:
    async with httpx.AsyncClient(base_url=imagestore.url, timeout=30.0) as client:
        yield Group(client, authority, servers, module_database_url)


def over_quota(response: httpx.Response, limit: int) -> None:
    assert response.status_code == 409, response.text
    body = response.json()
    assert "quota of images" in str(body["detail"]), response.text
    quota = body["quota"]
    assert (quota["name"], quota["limit"], quota["used"]) == ("images", limit, limit)


async def test_images_count_until_deleted_and_sessions_from_their_start(group: Group) -> None:
    await group.quota(2)
    first = await group.publish()
    data = archive(400)
    session = await group.open(data)
    assert session.status_code == 201, session.text
    over_quota(await group.upload(), 2)
    over_quota(await group.open(archive(300)), 2)

    cancelled = await group.client.delete(
        f"/api/v1/uploads/{session.json()['id']}", headers=group.headers
    )
    assert cancelled.status_code == 204
    second = await group.publish()
    deprecated = await group.client.post(
        f"/api/v1/images/{second['id']}/deprecate", headers=group.headers
    )
    assert deprecated.status_code == 200
    over_quota(await group.upload(), 2)  # deprecated images still count

    deleted = await group.client.delete(f"/api/v1/images/{first['id']}", headers=group.headers)
    assert deleted.status_code == 200
    assert (await group.upload()).status_code == 201


async def test_completing_an_upload_checks_the_quota_again(group: Group) -> None:
    await group.quota(1)
    data = archive(400)
    session = (await group.open(data)).json()
    sent = await patch(group.client, session["id"], 0, data, headers=group.headers)
    assert sent.status_code == 200, sent.text
    await group.quota(0)  # lowered while the bytes were on their way
    complete = f"/api/v1/uploads/{session['id']}/complete"
    refused = await group.client.post(complete, headers=group.headers)
    assert refused.status_code == 409 and refused.json()["quota"]["limit"] == 0, refused.text
    await group.quota(1)
    done = await group.client.post(complete, headers=group.headers)
    assert done.status_code == 201, "the session was kept: it completes once there is room"


async def test_a_group_without_an_image_quota_publishes_freely(group: Group) -> None:
    await group.quota(None)
    for _ in range(3):
        await group.publish()


@pytest.mark.parametrize("how", ["single", "session"])
async def test_concurrent_publishes_at_the_limit_only_one_wins(group: Group, how: str) -> None:
    await group.quota(2)
    await group.publish()

    async def contender() -> httpx.Response:
        if how == "single":
            return await group.upload(size=200_000)
        return await group.open(archive(300))

    results = await asyncio.gather(*(contender() for _ in range(4)))
    statuses = sorted(r.status_code for r in results)
    assert statuses == [201, 409, 409, 409], [r.text for r in results]
    for response in results:
        if response.status_code == 409:
            over_quota(response, 2)
