"""A publisher key signs only the image names it is bound to; the distro's name only when
an operator bound the key to it by that exact name."""

from __future__ import annotations

import httpx
import pytest

from guificloud.events.imagestore import PublisherKeyAdded
from guificloud.key_names import DISTRO_NAME
from guificloud.testing.servers import Servers
from tests.imagestore.helpers import (
    ADMIN,
    OCTETS,
    Publisher,
    archive,
    event,
    fields_named,
    meta,
    sha256,
    unique_name,
)

pytestmark = pytest.mark.integration


async def signed(
    client: httpx.AsyncClient, publisher: Publisher, name: str, *, session: bool = False
) -> httpx.Response:
    data, m = archive(500), meta(name, version=unique_name())
    signature = publisher.sign(name, m["version"], m["arch"], sha256(data))
    if session:
        body = {**m, "size": len(data), "signature": signature, "key_id": publisher.key_id}
        return await client.post("/api/v1/uploads", json=body)
    params = {**m, "signature": signature, "key_id": publisher.key_id}
    return await client.post("/api/v1/images", params=params, content=data, headers=OCTETS)


async def test_a_key_signs_only_its_names_and_patterns(
    client: httpx.AsyncClient, servers: Servers
) -> None:
    prefix = unique_name()
    publisher = Publisher("bound")
    added = (await publisher.trust(client, names=(f"{prefix}-*", "exact-one"))).json()
    assert added["names"] == [f"{prefix}-*", "exact-one"]
    announced = await event(
        servers.nats_url, PublisherKeyAdded.SUBJECT, lambda d: d["key_id"] == publisher.key_id
    )
    assert announced.data["names"] == [f"{prefix}-*", "exact-one"]

    assert (await signed(client, publisher, f"{prefix}-web")).status_code == 201
    for session in (False, True):
        refused = await signed(client, publisher, unique_name(), session=session)
        assert refused.status_code == 403, refused.text
        assert "not bound to the image name" in str(refused.json())
        assert fields_named(refused) == {"key_id"}


async def test_the_distro_name_needs_a_key_bound_to_it_by_name(
    client: httpx.AsyncClient,
) -> None:
    anything = Publisher("wildcard")
    await anything.trust(client, names=("*",))
    refused = await signed(client, anything, DISTRO_NAME)
    assert refused.status_code == 403, refused.text
    assert DISTRO_NAME in str(refused.json())

    distro = Publisher("guifi.net")
    await distro.trust(client, names=(DISTRO_NAME,))
    assert (await signed(client, distro, DISTRO_NAME)).status_code == 201
    assert (await signed(client, distro, unique_name())).status_code == 403


async def test_keys_need_names(client: httpx.AsyncClient) -> None:
    publisher = Publisher()
    for names in (None, [], ["Bad Name"]):
        body = {"publisher": "p", "public_key": publisher.public}
        if names is not None:
            body["names"] = names
        response = await client.post("/api/v1/keys", json=body, headers=ADMIN)
        assert response.status_code == 422 and "names" in str(response.json()), response.text
