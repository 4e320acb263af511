"""The read model of boxes from ``provisioner.box.registered``, and the fleet per zone."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest
from nats.aio.client import Client
from sqlalchemy.engine import make_url

from guificloud.bus.connection import Bus
from guificloud.events.envelope import Envelope
from guificloud.events.provisioner import BoxRegistered
from guificloud.streams import PROVISIONER
from guificloud.testing.processes import ServiceProcess
from tests.monitor.boxes import HeartbeatSender, publish_envelope, publish_registered
from tests.monitor.observe import MonitorApi, wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
async def provisioner_stream(nats_url: str) -> None:
    """The provisioner owns and declares its stream; here the test stands in for it."""
    bus = await Bus.connect(nats_url, name="test-provisioner")
    try:
        await bus.declare((PROVISIONER,))
    finally:
        await bus.close()


def registered(zone_id: UUID, node_id: UUID) -> BoxRegistered:
    return BoxRegistered(
        box_id=uuid4(), device_id=uuid4(), node_id=node_id, zone_id=zone_id, arch="amd64"
    )


async def wait_listed(api: MonitorApi, count: int, **filters: Any) -> list[dict[str, Any]]:
    async def probe() -> list[dict[str, Any]] | None:
        boxes = await api.get("/boxes", **filters)
        return boxes if len(boxes) == count else None

    return await wait_until(probe, what=f"{count} boxes listed with {filters}")


@pytest.mark.usefixtures("provisioner_stream")
async def test_registered_boxes_are_known_before_heartbeats_and_counted_per_zone(
    api: MonitorApi, nc: Client
) -> None:
    zone_a, zone_b, node_a, node_b = uuid4(), uuid4(), uuid4(), uuid4()
    a1, a2, b1 = registered(zone_a, node_a), registered(zone_a, node_a), registered(zone_b, node_b)
    for event in (a1, a2, b1):
        await publish_registered(nc, event)

    in_a = await wait_listed(api, 2, zone_id=str(zone_a))
    assert {b["box_id"] for b in in_a} == {str(a1.box_id), str(a2.box_id)}
    assert all(b["state"] == "unknown" and b["node_id"] == str(node_a) for b in in_a)
    box = await api.box(b1.box_id)
    assert box is not None
    assert (box["state"], box["zone_id"], box["node_id"], box["device_id"], box["arch"]) == (
        "unknown",
        str(zone_b),
        str(node_b),
        str(b1.device_id),
        "amd64",
    )
    assert box["last_seen"] is None and box["metrics"] is None

    agent = HeartbeatSender(nc, a1.box_id, 5.0)
    await agent.send()
    box = await api.wait_state(a1.box_id, "online")
    assert box["zone_id"] == str(zone_a)

    fleet = await api.get("/fleet")
    assert (fleet["online"], fleet["offline"], fleet["unknown"], fleet["total"]) == (1, 0, 2, 3)
    zones = {z["zone_id"]: z for z in fleet["zones"]}
    assert set(zones) == {str(zone_a), str(zone_b)}
    assert (zones[str(zone_a)]["online"], zones[str(zone_a)]["unknown"]) == (1, 1)
    assert (zones[str(zone_b)]["online"], zones[str(zone_b)]["unknown"]) == (0, 1)

    assert [b["box_id"] for b in await api.get("/boxes", state="online")] == [str(a1.box_id)]
    assert {b["box_id"] for b in await api.get("/boxes", state="unknown")} == {
        str(a2.box_id),
        str(b1.box_id),
    }
    assert [b["box_id"] for b in await api.get("/boxes", node_id=str(node_b))] == [str(b1.box_id)]
    transitions = await api.get(f"/boxes/{a1.box_id}/transitions")
    assert [(t["from_state"], t["to_state"]) for t in transitions] == [("unknown", "online")]


@pytest.mark.usefixtures("provisioner_stream")
async def test_a_box_heartbeating_before_registration_keeps_its_state(
    api: MonitorApi, nc: Client
) -> None:
    agent = HeartbeatSender(nc, uuid4(), 5.0)
    await agent.send()
    await api.wait_state(agent.box_id, "online")
    fleet = await api.get("/fleet")
    assert [(z["zone_id"], z["online"]) for z in fleet["zones"]] == [(None, 1)]

    zone_id, node_id = uuid4(), uuid4()
    await publish_registered(
        nc,
        BoxRegistered(
            box_id=agent.box_id,
            device_id=agent.box_id,
            node_id=node_id,
            zone_id=zone_id,
            arch="armhf",
        ),
    )
    (box,) = await wait_listed(api, 1, zone_id=str(zone_id))
    assert (box["state"], box["node_id"], box["arch"]) == ("online", str(node_id), "armhf")


@pytest.mark.usefixtures("provisioner_stream")
async def test_the_same_registration_delivered_twice_has_one_effect(
    monitor: ServiceProcess, api: MonitorApi, nc: Client, database_url: str
) -> None:
    event = registered(uuid4(), uuid4())
    envelope = Envelope.wrap(event, source="provisioner")
    # Two message ids, so JetStream stores and delivers both copies of the same event.
    await publish_envelope(nc, envelope, msg_id="first-copy")
    (first,) = await wait_listed(api, 1)
    await publish_envelope(nc, envelope, msg_id="second-copy")

    js = nc.jetstream()

    async def both_handled() -> bool:
        info = await js.consumer_info(PROVISIONER.name, "monitor-boxes")
        return info.delivered.stream_seq == 2 and info.num_ack_pending == 0

    await wait_until(both_handled, what="both copies acknowledged")
    assert await api.get("/boxes") == [first]
    assert "consumer.duplicate_skipped" in monitor.tail(200)
    db = await asyncpg.connect(
        make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    )
    try:
        handled = await db.fetchval(
            "SELECT count(*) FROM monitor.inbox WHERE event_id = $1", envelope.id
        )
    finally:
        await db.close()
    assert handled == 1
