"""A box speaks only for itself: a report on ``agent.X.reported`` about box Y is
dead-lettered with the reason and never applied (real NATS and PostgreSQL, the provisioner
in process)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest

from guificloud.bus.connection import Bus
from guificloud.bus.deadletters import DeadLetter, DeadLetters
from guificloud.events.agent import AgentReported
from guificloud.events.envelope import Envelope, Event
from guificloud.events.registry import DeviceAdded, Hardware
from guificloud.streams import IMAGESTORE, REGISTRY
from guificloud.testing.inprocess import service_in_process
from guificloud_provisioner.service import DEFINITION
from guificloud_provisioner.settings import ProvisionerSettings

pytestmark = pytest.mark.integration


async def _publish(bus: Bus, subject: str, event: Event) -> None:
    await bus.js.publish(subject, Envelope.wrap(event, source="test").model_dump_json().encode())


async def _box(bus: Bus) -> UUID:
    device = DeviceAdded(
        device_id=uuid4(),
        node_id=uuid4(),
        zone_id=uuid4(),
        name="box",
        type="cloudy",
        hardware=Hardware(arch="amd64", cores=2, ram_mb=4096, disk_gb=64),
    )
    await _publish(bus, device.subject(), device)
    return device.device_id


async def _until(
    client: httpx.AsyncClient, path: str, check: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        response = await client.get(path)
        if response.status_code == 200 and check(response.json()):
            return dict(response.json())
        await asyncio.sleep(0.05)
    raise AssertionError(f"{path} never matched: {response.text}")


async def _dead_letter(letters: DeadLetters, subject: str) -> DeadLetter:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if found := await letters.list(subject=subject):
            return found[0]
        await asyncio.sleep(0.05)
    raise AssertionError(f"nothing published on {subject} was dead-lettered")


async def test_a_report_about_another_box_is_dead_lettered_and_not_applied(
    database_url: str, nats_url: str
) -> None:
    settings = ProvisionerSettings(database_url=database_url, nats_url=nats_url)
    bus = await Bus.connect(nats_url, name="test")
    try:
        await bus.declare((REGISTRY, IMAGESTORE))
        async with service_in_process(DEFINITION, settings) as svc:
            forger, victim = await _box(bus), await _box(bus)
            for box in (forger, victim):
                await _until(
                    svc.client, f"/api/v1/boxes/{box}", lambda b: b["state"] != "registered"
                )
            before = (await svc.client.get(f"/api/v1/boxes/{victim}")).json()

            forged = AgentReported(
                box_id=victim, state="failed", generation=0, driver="x", reason="forged"
            )
            subject = f"agent.{forger}.reported"
            await _publish(bus, subject, forged)

            letter = await _dead_letter(DeadLetters(bus.js, "provisioner"), subject)
            assert (
                letter.reason == f"subject {subject} names box {forger}, the payload box {victim}"
            )
            assert letter.envelope is not None and letter.envelope["data"]["box_id"] == str(victim)
            unchanged = (await svc.client.get(f"/api/v1/boxes/{victim}")).json()
            assert unchanged == before, "the forged report was applied"

            # The same report on the victim's own subject is applied: the consumer was live,
            # and the forged one, handled before it, had changed nothing.
            await _publish(bus, forged.subject(), forged)
            after = await _until(
                svc.client, f"/api/v1/boxes/{victim}", lambda b: b["agent_state"] is not None
            )
            assert before["agent_state"] is None and before["last_report_at"] is None
            assert after["last_report_at"] is not None
            assert after["agent_state"] == "failed"
            forger_box = (await svc.client.get(f"/api/v1/boxes/{forger}")).json()
            assert forger_box["agent_state"] is None, "the forger's own box took the report"
    finally:
        await bus.close()
