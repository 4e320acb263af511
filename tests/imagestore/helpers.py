"""What the image store's tests share: unique names, digests, uploads, and events read
back from JetStream."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import io
import lzma
import os
import tarfile
from collections.abc import Callable
from typing import Any
from uuid import uuid4

import httpx
import nats

from guificloud.bus.connection import Bus
from guificloud.events.envelope import Envelope, Event
from guificloud.signing import generate_key, key_id, sign
from guificloud.streams import IMAGESTORE

ADMIN_TOKEN = "imagestore-test-admin-token"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
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


async def upload(client: httpx.AsyncClient, data: bytes, **params: str) -> httpx.Response:
    """A single-request upload."""
    return await client.post("/api/v1/images", params=meta(**params), content=data, headers=OCTETS)


async def published(client: httpx.AsyncClient, data: bytes, **params: str) -> dict[str, Any]:
    response = await upload(client, data, **params)
    assert response.status_code == 201, response.text
    image: dict[str, Any] = response.json()
    return image


async def say(bus: Bus, fact: Event) -> None:
    """Publish ``fact`` as the provisioner does (its stream, its envelope)."""
    await bus.publish(fact.subject(), Envelope.wrap(fact, source="provisioner"))


async def patch(
    client: httpx.AsyncClient, session_id: str, offset: int, data: bytes
) -> httpx.Response:
    return await client.patch(
        f"/api/v1/uploads/{session_id}",
        content=data,
        headers={"Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"},
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
