"""What the image store's tests share: unique names, digests, uploads, events read back
from JetStream, and groups told to the store as the identity service tells them."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import io
import lzma
import os
import tarfile
import time
from collections.abc import Callable
from typing import Any
from uuid import UUID, uuid4

import httpx
import nats
from sqlalchemy import text

from guificloud.bus.connection import Bus
from guificloud.db.engine import make_engine
from guificloud.events.envelope import Envelope, Event
from guificloud.events.identity import Quotas
from guificloud.signing import generate_key, key_id, sign
from guificloud.streams import IMAGESTORE
from guificloud.testing.authority import ADMIN_TOKEN, TestAuthority, bearer

ADMIN = bearer(ADMIN_TOKEN)
"""The deployment's admin token: an operator, who publishes the deployment's images."""
OCTETS = {"Content-Type": "application/octet-stream"}
UNSIGNED_OK = {"GUIFICLOUD_IMAGESTORE_REQUIRE_SIGNATURE": "false"}
"""The development setting most tests run the store with: it takes unsigned images."""


def unique_name() -> str:
    return f"test-{uuid4().hex[:10]}"


def sha256(data: bytes) -> str:
    return f"sha256:{hashlib.sha256(data).hexdigest()}"


def archive(size: int, format: str = "tar.gz") -> bytes:
    """Unique bytes that open as ``format`` (one small random member), padded with random
    bytes to ``size`` when it is bigger than the archive."""
    tar = io.BytesIO()
    with tarfile.open(fileobj=tar, mode="w") as out:
        content = os.urandom(16)
        info = tarfile.TarInfo("data")
        info.size = len(content)
        out.addfile(info, io.BytesIO(content))
    packers = {"tar": bytes, "tar.gz": gzip.compress, "tar.xz": lzma.compress}
    packed = packers[format](tar.getvalue())
    return packed + os.urandom(max(0, size - len(packed)))


def fields_named(response: httpx.Response) -> set[str]:
    """The field names a 4xx answer blames."""
    detail = response.json()["detail"]
    return {str(item["loc"][-1]) for item in detail} if isinstance(detail, list) else set()


def meta(name: str | None = None, version: str = "1.0.0", **more: Any) -> dict[str, Any]:
    return {
        "name": name or unique_name(),
        "version": version,
        "arch": "amd64",
        "format": "tar.gz",
        **more,
    }


async def upload(
    client: httpx.AsyncClient, data: bytes, *, headers: dict[str, str] | None = None, **params: str
) -> httpx.Response:
    """A single-request upload, with the client's credentials unless ``headers`` has others."""
    return await client.post(
        "/api/v1/images", params=meta(**params), content=data, headers={**OCTETS, **(headers or {})}
    )


async def published(
    client: httpx.AsyncClient, data: bytes, *, headers: dict[str, str] | None = None, **params: str
) -> dict[str, Any]:
    response = await upload(client, data, headers=headers, **params)
    assert response.status_code == 201, response.text
    image: dict[str, Any] = response.json()
    return image


async def say(bus: Bus, fact: Event) -> None:
    """Publish ``fact`` as the provisioner does (its stream, its envelope)."""
    await bus.publish(fact.subject(), Envelope.wrap(fact, source="provisioner"))


async def patch(
    client: httpx.AsyncClient,
    session_id: str,
    offset: int,
    data: bytes,
    *,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    return await client.patch(
        f"/api/v1/uploads/{session_id}",
        content=data,
        headers={
            "Upload-Offset": str(offset),
            "Content-Type": "application/offset+octet-stream",
            **(headers or {}),
        },
    )


class Publisher:
    """An ed25519 key pair, as a publisher of images holds it."""

    def __init__(self, name: str = "guifi.net") -> None:
        self.name = name
        self.private, self.public = generate_key()
        self.key_id = key_id(self.public)

    def sign(self, name: str, version: str, arch: str, digest: str) -> str:
        signature: str = sign(self.private, name, version, arch, digest)
        return signature

    async def trust(
        self, client: httpx.AsyncClient, names: tuple[str, ...] = ("*",)
    ) -> httpx.Response:
        body = {"publisher": self.name, "public_key": self.public, "names": list(names)}
        response = await client.post("/api/v1/keys", json=body, headers=ADMIN)
        assert response.status_code == 201, response.text
        return response


async def event(
    nats_url: str,
    subject: str,
    match: Callable[[dict[str, Any]], bool],
    *,
    timeout_s: float = 10.0,
) -> Envelope:
    """The first envelope on ``subject`` in ``IMAGESTORE`` whose data ``match`` accepts."""
    nc = await nats.connect(nats_url)
    try:
        sub = await nc.jetstream().subscribe(subject, stream=IMAGESTORE.name, ordered_consumer=True)
        async with asyncio.timeout(timeout_s):
            while True:
                envelope = Envelope.model_validate_json((await sub.next_msg(timeout_s)).data)
                if match(envelope.data):
                    return envelope
    finally:
        await nc.close()


async def tell_group(
    authority: TestAuthority,
    nats_url: str,
    database_url: str,
    group_id: UUID,
    quotas: Quotas | None = None,
    *,
    timeout_s: float = 10.0,
) -> None:
    """Publish the group's facts as the identity service does, and wait until the store
    (whose database is ``database_url``) holds them."""
    quotas = quotas or Quotas()
    await authority.group(nats_url, group_id, quotas=quotas)
    engine = make_engine(database_url, pool_size=1)
    query = text("SELECT quotas FROM imagestore.group_facts WHERE group_id = :g")
    deadline = time.monotonic() + timeout_s
    try:
        while True:
            async with engine.connect() as conn:
                held = (await conn.execute(query, {"g": group_id})).scalar()
            if held is not None and Quotas.model_validate(held) == quotas:
                return
            assert time.monotonic() < deadline, f"the store never heard of group {group_id}"
            await asyncio.sleep(0.05)
    finally:
        await engine.dispose()
