"""The provisioner alone: boxes from device events, credentials, desired state, 4xx answers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest
import pytest_asyncio

from guificloud.bus.connection import Bus
from guificloud.events.envelope import Envelope, Event
from guificloud.events.imagestore import ImagePublished
from guificloud.events.registry import DeviceAdded, Hardware
from guificloud.streams import IMAGESTORE, REGISTRY
from guificloud.testing.authority import ADMIN_TOKEN
from guificloud.testing.processes import ServiceProcess

pytestmark = pytest.mark.integration
OPERATOR = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest_asyncio.fixture
async def provisioner(
    database_url: str, nats_url: str, tmp_path: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, Bus]]:
    bus = await Bus.connect(nats_url, name="test")
    await bus.declare((REGISTRY, IMAGESTORE))
    proc = ServiceProcess(
        "guificloud_provisioner",
        log_dir=tmp_path,
        env={
            "GUIFICLOUD_DATABASE_URL": database_url,
            "GUIFICLOUD_NATS_URL": nats_url,
            "GUIFICLOUD_IMAGESTORE_URL": "http://images.example:8104",
        },
    )
    proc.start()
    try:
        async with httpx.AsyncClient(base_url=proc.url, timeout=10) as client:
            yield client, bus
    finally:
        proc.stop()
        await bus.close()


async def _publish(bus: Bus, event: Event) -> None:
    await bus.publish(event.subject(), Envelope.wrap(event, source="test"))


async def _wait(client: httpx.AsyncClient, path: str, check: Callable[[Any], bool]) -> Any:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        response = await client.get(path)
        if response.status_code == 200 and check(response.json()):
            return response.json()
        await asyncio.sleep(0.05)
    raise AssertionError(f"{path} never matched: {response.text}")


def _device(kind: str = "cloudy") -> DeviceAdded:
    return DeviceAdded(
        device_id=uuid4(),
        node_id=uuid4(),
        zone_id=uuid4(),
        name="box",
        type=kind,
        hardware=Hardware(arch="amd64", cores=2, ram_mb=4096, disk_gb=64),
    )


async def test_cloud_device_becomes_configured_box_with_credentials(provisioner) -> None:  # type: ignore[no-untyped-def]
    client, bus = provisioner
    event = _device()
    await _publish(bus, event)
    box = await _wait(
        client, f"/api/v1/boxes/{event.device_id}", lambda b: b["state"] == "configured"
    )
    assert box["desired_distro"] is None and box["cores"] == 2

    box_path = f"/api/v1/boxes/{event.device_id}"
    assert (await client.get(f"{box_path}/config")).status_code == 401
    config = (await client.get(f"{box_path}/config", headers=OPERATOR)).json()
    assert config["box_id"] == str(event.device_id) and len(config["token"]) >= 32

    assert (await client.get(f"{box_path}/desired")).status_code == 401
    wrong = await client.get(f"{box_path}/desired", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and "token" in wrong.json()["detail"]
    auth = {"Authorization": f"Bearer {config['token']}"}
    desired = (await client.get(f"{box_path}/desired", headers=auth)).json()
    assert desired == {
        "box_id": str(event.device_id),
        "generation": 0,
        "distro": None,
        "heartbeat_interval_s": 5.0,
        "trusted_keys": {},
        "key_names": {},
        "slivers": [],
    }

    digest = "sha256:" + "ab" * 32
    await _publish(
        bus,
        ImagePublished(
            image_id=uuid4(),
            name="guifi-community-distro",
            version="1.0.0",
            arch="amd64",
            format="tar.gz",
            channel="stable",
            digest=digest,
            size=123,
            url=f"/api/v1/blobs/{digest}",
            published_at=datetime.now(UTC),
        ),
    )
    box = await _wait(client, box_path, lambda b: b["desired_distro"] is not None)
    desired = (await client.get(f"{box_path}/desired", headers=auth)).json()
    assert desired["generation"] == 1
    assert desired["distro"]["url"] == f"http://images.example:8104/api/v1/blobs/{digest}"
    assert box["state"] == "configured"


async def test_other_devices_and_other_images_are_left_alone(provisioner) -> None:  # type: ignore[no-untyped-def]
    client, bus = provisioner
    radio = _device("radio")
    cloud = _device()
    await _publish(bus, radio)
    await _publish(bus, cloud)
    await _wait(client, f"/api/v1/boxes/{cloud.device_id}", lambda b: True)
    assert (await client.get(f"/api/v1/boxes/{radio.device_id}")).status_code == 404
    digest = "sha256:" + "cd" * 32
    await _publish(
        bus,
        ImagePublished(
            image_id=uuid4(),
            name="some-app",
            version="1",
            arch="amd64",
            format="tar",
            channel="stable",
            digest=digest,
            size=1,
            url=f"/api/v1/blobs/{digest}",
            published_at=datetime.now(UTC),
        ),
    )
    await _wait(client, "/api/v1/distros", lambda d: len(d) == 1)
    box = (await client.get(f"/api/v1/boxes/{cloud.device_id}")).json()
    assert box["desired_distro"] is None


async def test_unknown_and_malformed_ids(provisioner) -> None:  # type: ignore[no-untyped-def]
    client, _bus = provisioner
    missing = uuid4()
    response = await client.get(f"/api/v1/boxes/{missing}")
    assert response.status_code == 404 and str(missing) in response.json()["detail"]
    assert (await client.get("/api/v1/boxes/not-a-uuid")).status_code == 422
    assert (await client.get(f"/api/v1/boxes/{missing}/desired")).status_code == 404


async def test_signed_distros_trusted_keys_and_deprecation(provisioner) -> None:  # type: ignore[no-untyped-def]
    from guificloud import signing
    from guificloud.events.imagestore import (
        ImageDeprecated,
        PublisherKeyAdded,
        PublisherKeyRevoked,
    )

    client, bus = provisioner
    private, public = signing.generate_key()
    kid = signing.key_id(public)
    await _publish(bus, PublisherKeyAdded(key_id=kid, public_key=public, publisher="guifi"))

    def image(version: str, fill: str) -> ImagePublished:
        digest = "sha256:" + fill * 64
        return ImagePublished(
            image_id=uuid4(),
            name="guifi-community-distro",
            version=version,
            arch="amd64",
            format="tar.gz",
            channel="stable",
            digest=digest,
            size=10,
            url=f"/api/v1/blobs/{digest}",
            published_at=datetime.now(UTC),
            signature=signing.sign(private, "guifi-community-distro", version, "amd64", digest),
            key_id=kid,
        )

    old, new = image("1.0.0", "1"), image("1.1.0", "2")
    await _publish(bus, old)
    await _publish(bus, new)
    await _publish(
        bus,
        ImageDeprecated(
            image_id=new.image_id,
            name=new.name,
            version=new.version,
            arch="amd64",
            digest=new.digest,
        ),
    )
    await _wait(client, "/api/v1/distros", lambda d: len(d) == 2)
    await asyncio.sleep(0.5)

    event = _device()
    await _publish(bus, event)
    box_path = f"/api/v1/boxes/{event.device_id}"
    await _wait(client, box_path, lambda b: b["state"] == "configured")
    config = (await client.get(f"{box_path}/config", headers=OPERATOR)).json()
    assert config["trusted_keys"] == {kid: public}
    auth = {"Authorization": f"Bearer {config['token']}"}
    desired = (await client.get(f"{box_path}/desired", headers=auth)).json()
    assert desired["distro"]["version"] == "1.0.0", "a deprecated image was chosen"
    assert desired["distro"]["key_id"] == kid and desired["distro"]["arch"] == "amd64"
    signing.verify(
        desired["trusted_keys"],
        desired["distro"]["signature"],
        kid,
        "guifi-community-distro",
        "1.0.0",
        "amd64",
        old.digest,
    )

    await _publish(bus, PublisherKeyRevoked(key_id=kid))
    deadline = time.monotonic() + 20
    while (await client.get(f"{box_path}/desired", headers=auth)).json()["trusted_keys"]:
        assert time.monotonic() < deadline, "the revoked key was still handed out"
        await asyncio.sleep(0.05)
