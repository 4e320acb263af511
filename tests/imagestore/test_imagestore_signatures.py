"""Publisher keys and signed images: trusted keys are announced, signatures are checked."""

from __future__ import annotations

import base64

import httpx
import pytest

from guificloud.events.imagestore import ImagePublished, PublisherKeyAdded, PublisherKeyRevoked
from guificloud.testing.servers import Servers
from tests.imagestore.helpers import (
    ADMIN,
    OCTETS,
    Publisher,
    archive,
    event,
    fields_named,
    meta,
    patch,
    sha256,
)

pytestmark = pytest.mark.integration


async def signed_upload(
    client: httpx.AsyncClient,
    data: bytes,
    *,
    signature: str,
    key_id: str,
    name: str,
    with_digest: bool = False,
) -> httpx.Response:
    params = {**meta(name), "signature": signature, "key_id": key_id}
    if with_digest:
        params["digest"] = sha256(data)
    return await client.post("/api/v1/images", params=params, content=data, headers=OCTETS)


async def test_keys_added_and_revoked_are_announced(
    client: httpx.AsyncClient, servers: Servers
) -> None:
    publisher = Publisher("keys-test")
    added = (await publisher.trust(client)).json()
    assert (added["key_id"], added["public_key"]) == (publisher.key_id, publisher.public)
    assert publisher.key_id in {k["key_id"] for k in (await client.get("/api/v1/keys")).json()}

    again = await client.post(
        "/api/v1/keys",
        json={"publisher": "x", "public_key": publisher.public, "names": ["*"]},
        headers=ADMIN,
    )
    assert again.status_code == 409

    announced = await event(
        servers.nats_url, PublisherKeyAdded.SUBJECT, lambda d: d["key_id"] == publisher.key_id
    )
    assert announced.data == {
        "key_id": publisher.key_id,
        "public_key": publisher.public,
        "publisher": "keys-test",
        "names": ["*"],
    }

    revoked = await client.delete(f"/api/v1/keys/{publisher.key_id}", headers=ADMIN)
    assert revoked.status_code == 204
    listed = (await client.get("/api/v1/keys")).json()
    assert publisher.key_id not in {k["key_id"] for k in listed}
    everything = (await client.get("/api/v1/keys", params={"include_revoked": "true"})).json()
    assert any(k["key_id"] == publisher.key_id and k["revoked_at"] for k in everything)
    await event(
        servers.nats_url, PublisherKeyRevoked.SUBJECT, lambda d: d["key_id"] == publisher.key_id
    )
    assert (await client.delete("/api/v1/keys/0000000000000000", headers=ADMIN)).status_code == 404


async def test_a_key_must_be_a_real_key(client: httpx.AsyncClient) -> None:
    """(Who may change keys: test_imagestore_admin and test_imagestore_access.)"""
    for bad in ("not base64!", base64.b64encode(b"short").decode()):
        response = await client.post(
            "/api/v1/keys",
            json={"publisher": "p", "public_key": bad, "names": ["*"]},
            headers=ADMIN,
        )
        assert response.status_code == 422 and "public_key" in fields_named(response)


async def test_signed_upload_is_accepted_and_announced_with_its_signature(
    client: httpx.AsyncClient, servers: Servers
) -> None:
    publisher = Publisher("guifi.net")
    await publisher.trust(client)
    data, name = archive(4000), meta()["name"]
    signature = publisher.sign(name, "1.0.0", "amd64", sha256(data))

    response = await signed_upload(
        client, data, signature=signature, key_id=publisher.key_id, name=name
    )
    assert response.status_code == 201, response.text
    image = response.json()
    assert (image["signature"], image["key_id"], image["publisher"]) == (
        signature,
        publisher.key_id,
        "guifi.net",
    )
    published = await event(
        servers.nats_url, ImagePublished.SUBJECT, lambda d: d["image_id"] == image["id"]
    )
    assert published.data["signature"] == signature
    assert (published.data["key_id"], published.data["publisher"]) == (
        publisher.key_id,
        "guifi.net",
    )


async def test_signed_session_upload_is_accepted(client: httpx.AsyncClient) -> None:
    publisher = Publisher()
    await publisher.trust(client)
    data, m = archive(3000), meta()
    signature = publisher.sign(m["name"], "1.0.0", "amd64", sha256(data))
    body = {**m, "size": len(data), "signature": signature, "key_id": publisher.key_id}
    session = (await client.post("/api/v1/uploads", json=body)).json()
    assert (await patch(client, session["id"], 0, data)).status_code == 200
    done = await client.post(f"/api/v1/uploads/{session['id']}/complete")
    assert done.status_code == 201, done.text
    assert (done.json()["key_id"], done.json()["signature"]) == (publisher.key_id, signature)


async def test_bad_signature_and_untrusted_key_are_refused_naming_the_field(
    client: httpx.AsyncClient,
) -> None:
    trusted, stranger = Publisher(), Publisher("stranger")
    await trusted.trust(client)
    data, name = archive(2000), meta()["name"]
    digest = sha256(data)

    other_version = trusted.sign(name, "9.9.9", "amd64", digest)  # moved from another version
    other_bytes = trusted.sign(name, "1.0.0", "amd64", sha256(b"other bytes"))
    for signature, with_digest in ((other_version, True), (other_bytes, False), ("!!", False)):
        bad = await signed_upload(
            client,
            data,
            signature=signature,
            key_id=trusted.key_id,
            name=name,
            with_digest=with_digest,
        )
        assert bad.status_code == 422, bad.text
        assert "signature" in fields_named(bad)

    untrusted = await signed_upload(
        client,
        data,
        signature=stranger.sign(name, "1.0.0", "amd64", digest),
        key_id=stranger.key_id,
        name=name,
    )
    assert untrusted.status_code == 422 and "key_id" in fields_named(untrusted)

    no_key = await client.post(
        "/api/v1/images", params={**meta(name), "signature": other_bytes}, content=data
    )
    assert no_key.status_code == 422 and "key_id" in fields_named(no_key)
    assert (await client.get("/api/v1/images", params={"name": name})).json() == []

    await client.delete(f"/api/v1/keys/{trusted.key_id}", headers=ADMIN)
    revoked = await signed_upload(
        client,
        data,
        signature=trusted.sign(name, "1.0.0", "amd64", digest),
        key_id=trusted.key_id,
        name=name,
    )
    assert revoked.status_code == 422 and "key_id" in fields_named(revoked)


async def test_session_with_a_bad_signature_is_refused_at_completion(
    client: httpx.AsyncClient,
) -> None:
    publisher = Publisher()
    await publisher.trust(client)
    data, m = archive(3000), meta()
    wrong = publisher.sign(m["name"], "1.0.0", "amd64", sha256(b"not these bytes"))
    body = {**m, "size": len(data), "signature": wrong, "key_id": publisher.key_id}
    session = (await client.post("/api/v1/uploads", json=body)).json()
    assert (await patch(client, session["id"], 0, data)).status_code == 200

    refused = await client.post(f"/api/v1/uploads/{session['id']}/complete")
    assert refused.status_code == 422 and "signature" in fields_named(refused)
    assert (await client.get(f"/api/v1/uploads/{session['id']}")).status_code == 404

    early = await client.post(
        "/api/v1/uploads", json={**body, "name": meta()["name"], "digest": sha256(data)}
    )
    assert early.status_code == 422 and "signature" in fields_named(early)
