"""A published distro reaches new boxes only; boxes that run one move when an operator says
so. An image built for a box's arch always wins over one of arch ``all``."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import httpx
from typer.testing import CliRunner

from guificloud import signing
from guificloud.bus.connection import Bus
from guificloud.events.imagestore import ImagePublished, PublisherKeyAdded
from guificloud.testing.authority import ADMIN_TOKEN
from guificloud_cli.main import app
from tests.provisioner.test_api import OPERATOR, _device, _publish, _wait, provisioner

__all__ = ["provisioner"]  # the fixture, shared with test_api

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def distro(version: str, fill: str, *, arch: str = "amd64", age_s: int = 0) -> ImagePublished:
    digest = "sha256:" + fill * 64
    return ImagePublished(
        image_id=uuid4(),
        name="guifi-community-distro",
        version=version,
        arch=arch,
        format="tar.gz",
        channel="stable",
        digest=digest,
        size=10,
        url=f"/api/v1/blobs/{digest}",
        published_at=T0 + timedelta(seconds=age_s),
    )


async def new_box(client: httpx.AsyncClient, bus: Bus) -> str:
    event = _device()
    await _publish(bus, event)
    path = f"/api/v1/boxes/{event.device_id}"
    await _wait(client, path, lambda b: b["state"] == "configured")
    return path


def version_of(box: dict[str, Any]) -> str | None:
    return (box["desired_distro"] or {}).get("version")


async def test_an_arch_all_image_never_outranks_one_for_the_boxs_arch(provisioner) -> None:  # type: ignore[no-untyped-def]
    client, bus = provisioner
    await _publish(bus, distro("1.0.0", "1", arch="amd64", age_s=0))
    await _publish(bus, distro("9.0.0", "9", arch="all", age_s=100))  # newer, for any arch
    await _wait(client, "/api/v1/distros", lambda d: len(d) == 2)
    path = await new_box(client, bus)
    box = await _wait(client, path, lambda b: b["desired_distro"] is not None)
    assert version_of(box) == "1.0.0"


async def test_a_new_version_reaches_new_boxes_only_until_an_operator_moves_the_others(
    provisioner,
) -> None:  # type: ignore[no-untyped-def]
    client, bus = provisioner
    await _publish(bus, distro("1.0.0", "1"))
    await _wait(client, "/api/v1/distros", lambda d: len(d) == 1)
    running = await new_box(client, bus)
    await _wait(client, running, lambda b: version_of(b) == "1.0.0")

    await _publish(bus, distro("2.0.0", "2", age_s=100))
    await _wait(client, "/api/v1/distros", lambda d: len(d) == 2)
    newcomer = await new_box(client, bus)
    await _wait(client, newcomer, lambda b: version_of(b) == "2.0.0")
    await asyncio.sleep(0.5)
    assert version_of((await client.get(running)).json()) == "1.0.0", "moved without an operator"

    route = f"{running}/distro"
    assert (await client.post(route, json={})).status_code == 401
    unknown = await client.post(route, json={"version": "7.7.7"}, headers=OPERATOR)
    assert unknown.status_code == 409 and "7.7.7" in unknown.json()["detail"]
    moved = await client.post(route, json={}, headers=OPERATOR)
    assert moved.status_code == 200, moved.text
    assert (moved.json()["version"], moved.json()["changed"]) == ("2.0.0", True)
    assert version_of((await client.get(running)).json()) == "2.0.0"

    assert (await client.post("/api/v1/distros/assign", json={})).status_code == 401
    back = await client.post("/api/v1/distros/assign", json={"version": "1.0.0"}, headers=OPERATOR)
    assert back.status_code == 200, back.text
    assert {m["version"] for m in back.json()} == {"1.0.0"} and len(back.json()) >= 2
    for path in (running, newcomer):
        assert version_of((await client.get(path)).json()) == "1.0.0"
    missing = await client.post(
        "/api/v1/distros/assign", json={"box_ids": [str(uuid4())]}, headers=OPERATOR
    )
    assert missing.status_code == 404

    box_id = running.rsplit("/", 1)[1]
    url = str(client.base_url)
    runner = CliRunner(
        env={"GUIFICLOUD_PROVISIONER_URL": url, "GUIFICLOUD_ADMIN_TOKEN": ADMIN_TOKEN}
    )
    command = ["distro", "assign", "--box", box_id, "--version", "2.0.0", "--output", "json"]
    result = await asyncio.to_thread(runner.invoke, app, command)
    assert result.exit_code == 0, result.output
    assert [(m["box_id"], m["version"]) for m in json.loads(result.output)] == [(box_id, "2.0.0")]
    assert version_of((await client.get(running)).json()) == "2.0.0"
    neither = await asyncio.to_thread(runner.invoke, app, ["distro", "assign"])
    assert neither.exit_code != 0 and "--all" in neither.output


async def test_boxes_are_told_the_names_each_key_may_sign(provisioner) -> None:  # type: ignore[no-untyped-def]
    client, bus = provisioner
    _, bound = signing.generate_key()
    _, unbound = signing.generate_key()  # announced by a store before keys had names
    names = ("guifi-community-distro", "lab-*")
    await _publish(
        bus,
        PublisherKeyAdded(
            key_id=signing.key_id(bound), public_key=bound, publisher="g", names=names
        ),
    )
    await _publish(
        bus, PublisherKeyAdded(key_id=signing.key_id(unbound), public_key=unbound, publisher="o")
    )
    path = await new_box(client, bus)
    config = (await client.get(f"{path}/config", headers=OPERATOR)).json()
    auth = {"Authorization": f"Bearer {config['token']}"}

    async def desired() -> dict[str, Any]:
        return dict((await client.get(f"{path}/desired", headers=auth)).json())

    deadline = asyncio.get_running_loop().time() + 20
    while len((state := await desired())["trusted_keys"]) < 2:
        assert asyncio.get_running_loop().time() < deadline, state
        await asyncio.sleep(0.05)
    assert state["key_names"] == {signing.key_id(bound): list(names)}
