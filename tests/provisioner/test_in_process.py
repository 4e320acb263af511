"""The provisioner's handlers in the test's own loop (``service_in_process``): a device event
becomes one configured box however often it is delivered, and its events carry the flow's
correlation id. Real NATS and PostgreSQL; only the HTTP server is an in-memory transport."""

from __future__ import annotations

import asyncio
import time
from uuid import uuid4

import pytest

from guificloud.bus.connection import Bus
from guificloud.events.envelope import Envelope
from guificloud.events.registry import DeviceAdded, Hardware
from guificloud.streams import IMAGESTORE, PROVISIONER, REGISTRY
from guificloud.testing.inprocess import service_in_process
from guificloud_provisioner.service import DEFINITION
from guificloud_provisioner.settings import ProvisionerSettings

pytestmark = pytest.mark.integration


async def test_device_added_twice_makes_one_configured_box(
    database_url: str, nats_url: str
) -> None:
    settings = ProvisionerSettings(database_url=database_url, nats_url=nats_url)
    bus = await Bus.connect(nats_url, name="test")
    try:
        await bus.declare((REGISTRY, IMAGESTORE))
        async with service_in_process(DEFINITION, settings) as svc:
            event = DeviceAdded(
                device_id=uuid4(),
                node_id=uuid4(),
                zone_id=uuid4(),
                name="box",
                type="cloudy",
                hardware=Hardware(arch="amd64", cores=2, ram_mb=4096, disk_gb=64),
            )
            envelope = Envelope.wrap(event, source="test", correlation_id="flow-1")
            # The second copy has another message id, so only the inbox can tell it apart.
            await bus.js.publish(event.subject(), envelope.model_dump_json().encode())
            await bus.js.publish(event.subject(), envelope.model_dump_json().encode())

            path = f"/api/v1/boxes/{event.device_id}"
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                response = await svc.client.get(path)
                if response.status_code == 200 and response.json()["state"] == "configured":
                    break
                await asyncio.sleep(0.05)
            assert response.json()["state"] == "configured", response.text

            listing = await svc.client.get("/api/v1/boxes")
            assert [b["id"] for b in listing.json()].count(str(event.device_id)) == 1

            info = await bus.js.stream_info(PROVISIONER.name)
            subjects = []
            for seq in range(1, info.state.last_seq + 1):
                msg = await bus.js.get_msg(PROVISIONER.name, seq)
                sent = Envelope.model_validate_json(msg.data or b"")
                assert sent.correlation_id == "flow-1"
                subjects.append(msg.subject)
            assert subjects.count("provisioner.box.configured") == 1
    finally:
        await bus.close()
