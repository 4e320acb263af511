"""A box's HTTP token: stored only as its hash, a new one with each configuration fetched
(the previous one then refused), revocable by operators; and the migration that turned the
clear tokens of existing boxes into hashes. Real PostgreSQL and NATS, the provisioner in
process (the refusals of other callers: ``test_access``)."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable
from uuid import UUID, uuid4

import httpx
import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import Connection

from guificloud.bus.connection import Bus
from guificloud.db import migrations
from guificloud.db.engine import make_engine
from guificloud.events.envelope import Envelope
from guificloud.events.registry import DeviceAdded, Hardware
from guificloud.streams import IMAGESTORE, REGISTRY
from guificloud.testing.authority import ADMIN_TOKEN
from guificloud.testing.inprocess import service_in_process
from guificloud_provisioner.service import DEFINITION
from guificloud_provisioner.settings import ProvisionerSettings

pytestmark = pytest.mark.integration
OPERATOR = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
SCRIPTS = "guificloud_provisioner:migrations"


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def _configured_box(bus: Bus, client: httpx.AsyncClient) -> UUID:
    device = DeviceAdded(
        device_id=uuid4(),
        node_id=uuid4(),
        zone_id=uuid4(),
        name="box",
        type="cloudy",
        hardware=Hardware(arch="amd64", cores=2, ram_mb=4096, disk_gb=64),
    )
    await bus.publish(device.subject(), Envelope.wrap(device, source="test"))
    deadline = time.monotonic() + 20
    while (await client.get(f"/api/v1/boxes/{device.device_id}")).status_code != 200:
        assert time.monotonic() < deadline, "the box was never made"
        await asyncio.sleep(0.05)
    return device.device_id


async def _stored_row(database_url: str, box_id: UUID) -> dict[str, object]:
    engine = make_engine(database_url, pool_size=1)
    try:
        async with engine.connect() as conn:
            row = await conn.execute(
                text("SELECT to_jsonb(b) AS row FROM provisioner.boxes b WHERE id = :id"),
                {"id": box_id},
            )
            return dict(row.scalar_one())
    finally:
        await engine.dispose()


async def test_a_token_is_stored_hashed_rotated_by_config_and_revoked_by_operators(
    database_url: str, nats_url: str
) -> None:
    settings = ProvisionerSettings(database_url=database_url, nats_url=nats_url)
    bus = await Bus.connect(nats_url, name="test")
    try:
        await bus.declare((REGISTRY, IMAGESTORE))
        async with service_in_process(DEFINITION, settings) as svc:
            client = svc.client
            box_id = await _configured_box(bus, client)
            path = f"/api/v1/boxes/{box_id}"

            async def desired(token: str) -> int:
                auth = {"Authorization": f"Bearer {token}"}
                return (await client.get(f"{path}/desired", headers=auth)).status_code

            first = await client.get(f"{path}/config", headers=OPERATOR)
            assert first.headers["Cache-Control"] == "no-store"
            token = first.json()["token"]
            assert await desired(token) == 200

            stored = await _stored_row(database_url, box_id)
            assert stored["token_hash"] == _sha256(token) and "token" not in stored
            assert token not in str(stored), "the clear token is stored"

            head = await client.head(f"{path}/config", headers=OPERATOR)
            assert head.status_code == 405 and head.headers["Allow"] == "GET"
            assert await desired(token) == 200, "a HEAD issued a token and dropped it"

            second = (await client.get(f"{path}/config", headers=OPERATOR)).json()["token"]
            assert second != token
            assert await desired(token) == 401, "the previous token still works"
            assert await desired(second) == 200

            refused = await client.delete(f"{path}/token")
            assert refused.status_code == 401 and refused.headers["WWW-Authenticate"]
            assert await desired(second) == 200, "a refused revocation revoked"
            missing = await client.delete(f"/api/v1/boxes/{uuid4()}/token", headers=OPERATOR)
            assert missing.status_code == 404

            revoked = await client.delete(f"{path}/token", headers=OPERATOR)
            assert revoked.status_code == 204, revoked.text
            answer = await client.get(
                f"{path}/desired", headers={"Authorization": f"Bearer {second}"}
            )
            assert answer.status_code == 401 and "token" in answer.json()["detail"]
            assert (await _stored_row(database_url, box_id))["token_hash"] is None

            again = (await client.get(f"{path}/config", headers=OPERATOR)).json()["token"]
            assert await desired(again) == 200, "a new configuration does not bring a box back"
    finally:
        await bus.close()


async def test_the_migration_turns_clear_tokens_into_their_hashes(database_url: str) -> None:
    engine = make_engine(database_url, pool_size=1)
    cfg = migrations.alembic_config(SCRIPTS, "provisioner")
    box_id, token = uuid4(), "t" * 43

    def to(revision: str, down: bool = False) -> Callable[[Connection], None]:
        def run(conn: Connection) -> None:
            cfg.attributes["connection"] = conn
            (command.downgrade if down else command.upgrade)(cfg, revision)

        return run

    try:
        await migrations.upgrade(engine, SCRIPTS, "provisioner")
        async with engine.begin() as conn:
            await conn.run_sync(to("0007", down=True))
            await conn.execute(
                text(
                    "INSERT INTO provisioner.boxes (id, node_id, zone_id, name, device_type, arch,"
                    " cores, ram_mb, disk_gb, state, generation, token) VALUES (:id, :id, :id,"
                    " 'b', 'cloudy', 'amd64', 1, 1, 1, 'configured', 0, :token)"
                ),
                {"id": box_id, "token": token},
            )
        await migrations.upgrade(engine, SCRIPTS, "provisioner")
        stored = await _stored_row(database_url, box_id)
        assert stored["token_hash"] == _sha256(token) and "token" not in stored
        assert await migrations.is_current(engine, SCRIPTS, "provisioner")
    finally:
        await engine.dispose()
