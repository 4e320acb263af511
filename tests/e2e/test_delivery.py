"""Delivery guarantees of the onboarding flow: crashes, duplicates and malformed messages."""

from __future__ import annotations

import asyncio
import time
from uuid import uuid4

import nats
import pytest

from guificloud.events.envelope import Envelope
from guificloud.events.registry import DeviceAdded, Hardware
from guificloud.testing.processes import ServiceProcess
from tests.e2e.system import System, events_of, stored

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(
    "failpoint",
    [
        # killed inside the handler's transaction: nothing committed, the event is redelivered
        "provisioner-devices.before_commit",
        # killed after commit, before the outbox was published or the event acked
        "provisioner.committed_unpublished",
    ],
)
def test_provisioner_killed_mid_onboarding_finishes_after_restart(
    system: System, failpoint: str
) -> None:
    provisioner = system.services["provisioner"]
    provisioner.stop()
    crashing = ServiceProcess(
        "guificloud_provisioner",
        port=provisioner.port,
        env={**system.env, "GUIFICLOUD_FAILPOINTS": f"{failpoint}=kill"},
        log_dir=system.root / "crashing",
    )
    (system.root / "crashing").mkdir()
    crashing.start()
    box_id = system.add_cloud_box("crash-box")
    assert crashing.process is not None
    assert crashing.process.wait(30) == -9, "the failpoint did not kill the provisioner"

    provisioner.start()
    system.wait_state(box_id, "configured")
    deadline = time.monotonic() + 15
    while "provisioner.box.configured" not in events_of(
        stored(system.nats_url, "PROVISIONER"), box_id
    ):
        assert time.monotonic() < deadline, "the outbox never published box.configured"
        time.sleep(0.3)
    time.sleep(1.5)  # room for a wrong second publication or redelivery to show up

    box = system.box(box_id)
    assert [h["to_state"] for h in box["history"]] == ["registered", "configured"]
    types = events_of(stored(system.nats_url, "PROVISIONER"), box_id)
    assert types.count("provisioner.box.registered") == 1
    assert types.count("provisioner.box.configured") == 1


def test_same_event_delivered_twice_has_one_effect(system: System) -> None:
    zone = system.post("registry", "/api/v1/zones", {"name": "dup zone"})
    node = system.post(
        "registry",
        "/api/v1/nodes",
        {"name": "dup node", "zone_id": zone["id"], "latitude": 41.0, "longitude": 2.0},
    )
    event = DeviceAdded(
        device_id=uuid4(),
        node_id=node["id"],
        zone_id=zone["id"],
        name="dup",
        type="confine",
        hardware=Hardware(arch="amd64", cores=2, ram_mb=4096, disk_gb=64),
    )
    envelope = Envelope.wrap(event, source="test")

    async def publish_twice() -> None:
        nc = await nats.connect(system.nats_url)
        js = nc.jetstream()
        # Different Nats-Msg-Id, so JetStream stores both: the consumer must de-duplicate.
        for copy in ("a", "b"):
            await js.publish(
                event.subject(),
                envelope.model_dump_json().encode(),
                headers={"Nats-Msg-Id": f"{envelope.id}-{copy}"},
            )
        await nc.close()

    asyncio.run(publish_twice())
    box_id = str(event.device_id)
    system.wait_state(box_id, "configured")
    time.sleep(1.0)
    assert [h["to_state"] for h in system.box(box_id)["history"]] == ["registered", "configured"]
    types = events_of(stored(system.nats_url, "PROVISIONER"), box_id)
    assert types.count("provisioner.box.configured") == 1


def test_malformed_message_is_dead_lettered_and_the_consumer_goes_on(system: System) -> None:
    async def publish_garbage() -> None:
        nc = await nats.connect(system.nats_url)
        js = nc.jetstream()
        await js.publish("registry.device.added", b"{not json at all")
        bad_payload = Envelope(
            type="registry.device.added",
            version=1,
            source="test",
            correlation_id="c",
            data={"device_id": "not-a-uuid"},
        )
        await js.publish("registry.device.added", bad_payload.model_dump_json().encode())
        await nc.close()

    asyncio.run(publish_garbage())
    box_id = system.add_cloud_box("after-garbage")
    system.wait_state(box_id, "configured")

    async def dead_letters() -> list[str]:
        nc = await nats.connect(system.nats_url)
        js = nc.jetstream()
        sub = await js.pull_subscribe("deadletter.provisioner.>", stream="DEADLETTER")
        msgs = await sub.fetch(10, timeout=5)
        await nc.close()
        return [(m.headers or {}).get("Guificloud-Reason", "") for m in msgs]

    reasons = asyncio.run(dead_letters())
    assert len(reasons) == 2
    assert "malformed envelope" in reasons[0]
    assert "invalid registry.device.added payload" in reasons[1]
    assert "device_id" in reasons[1]
