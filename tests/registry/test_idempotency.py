"""A retried creating request never creates twice (``Idempotency-Key``), and nothing after a
commit turns a success into a 500. The registry runs in the test's loop on the real servers;
where the database must go away at an exact moment, it reaches PostgreSQL through a proxy
that the test cuts right after the creating commit."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any
from uuid import uuid4

import httpx
import pytest
from sqlalchemy import func, select

from guificloud.auth.verifier import ADMIN
from guificloud.idempotency import Idempotency
from guificloud.testing.authority import ADMIN_TOKEN, bearer
from guificloud.testing.inprocess import InProcessService, service_in_process
from guificloud.testing.pgproxy import PgProxy, pg_proxy
from guificloud_registry.models import Node, idempotency
from guificloud_registry.service import DEFINITION
from guificloud_registry.settings import RegistrySettings

pytestmark = pytest.mark.integration

KEY = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"


@contextlib.asynccontextmanager
async def registry(database_url: str, nats_url: str, **settings: Any) -> AsyncIterator[Client]:
    config = RegistrySettings(database_url=database_url, nats_url=nats_url, **settings)
    async with service_in_process(DEFINITION, config) as svc:
        # An unhandled error answers 500, as from a server, instead of failing the test.
        transport = httpx.ASGITransport(app=svc.app, raise_app_exceptions=False)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://registry", headers=bearer(ADMIN_TOKEN)
        ) as http:
            yield Client(svc, http)


class Client:
    def __init__(self, svc: InProcessService, http: httpx.AsyncClient) -> None:
        self.svc, self.http = svc, http

    async def zone(self) -> str:
        response = await self.http.post("/api/v1/zones", json={"name": "Osona"})
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    async def create_node(self, zone: str, name: str, key: str | None) -> httpx.Response:
        body = {"name": name, "zone_id": zone, "latitude": 41.93, "longitude": 2.25}
        return await self.http.post("/api/v1/nodes", json=body, headers={KEY: key} if key else {})

    async def nodes_named(self, name: str) -> int:
        async with self.svc.runtime.uow() as uow:
            count = await uow.session.scalar(
                select(func.count()).select_from(Node).where(Node.name == name)
            )
        return int(count or 0)


async def test_same_key_twice_creates_one_node_and_replays_the_response(
    database_url: str, nats_url: str
) -> None:
    async with registry(database_url, nats_url) as reg:
        zone, key = await reg.zone(), str(uuid4())
        first = await reg.create_node(zone, "Vic", key)
        again = await reg.create_node(zone, "Vic", key)

        assert first.status_code == again.status_code == 201, again.text
        assert again.content == first.content
        assert again.headers["ETag"] == first.headers["ETag"]
        assert again.headers[REPLAYED] == "true" and REPLAYED not in first.headers
        assert await reg.nodes_named("Vic") == 1

        # Without a key, a request runs each time, as before.
        assert (await reg.create_node(zone, "Vic", None)).status_code == 201
        assert await reg.nodes_named("Vic") == 2


async def test_same_key_with_another_body_is_refused(database_url: str, nats_url: str) -> None:
    async with registry(database_url, nats_url) as reg:
        zone, key = await reg.zone(), str(uuid4())
        assert (await reg.create_node(zone, "Vic", key)).status_code == 201

        other = await reg.create_node(zone, "Manlleu", key)
        assert other.status_code == 422
        assert "already used for another request" in other.json()["detail"]
        assert await reg.nodes_named("Manlleu") == 0

        # The same key on another route is another key.
        zone_again = await reg.http.post(
            "/api/v1/zones", json={"name": "Lluçanès"}, headers={KEY: key}
        )
        assert zone_again.status_code == 201 and REPLAYED not in zone_again.headers


async def test_a_bad_key_is_refused_with_a_reason(database_url: str, nats_url: str) -> None:
    async with registry(database_url, nats_url) as reg:
        zone = await reg.zone()
        refused = await reg.create_node(zone, "Vic", "k" * 256)
        assert refused.status_code == 422
        assert "Idempotency-Key must be 1 to 255 visible ASCII" in refused.json()["detail"]
        assert await reg.nodes_named("Vic") == 0


async def test_concurrent_requests_with_one_key_create_one_node(
    database_url: str, nats_url: str
) -> None:
    async with registry(database_url, nats_url) as reg:
        zone, key = await reg.zone(), str(uuid4())
        answers = await asyncio.gather(*(reg.create_node(zone, "Vic", key) for _ in range(6)))

        assert {a.status_code for a in answers} == {201}, [a.text for a in answers]
        assert len({a.content for a in answers}) == 1
        assert sum(REPLAYED in a.headers for a in answers) == 5
        assert await reg.nodes_named("Vic") == 1


async def test_a_retry_while_the_first_request_runs_gets_409_after_the_wait(
    database_url: str, nats_url: str
) -> None:
    async with registry(database_url, nats_url, idempotency_wait_s=0.3) as reg:
        zone, key = await reg.zone(), str(uuid4())
        # The first request's transaction: the key claimed, not yet committed.
        once = _once(key, "POST /api/v1/nodes")
        async with reg.svc.runtime.uow() as uow:
            assert await once.claim(uow) is None
            busy = await reg.create_node(zone, "Vic", key)
            assert busy.status_code == 409, busy.text
            assert "still in progress" in busy.json()["detail"]
        # That transaction rolled back: the key is free again.
        assert (await reg.create_node(zone, "Vic", key)).status_code == 201
        assert await reg.nodes_named("Vic") == 1


async def test_an_expired_key_is_a_new_key(database_url: str, nats_url: str) -> None:
    async with registry(database_url, nats_url, idempotency_ttl_s=0.2) as reg:
        zone, key = await reg.zone(), str(uuid4())
        assert (await reg.create_node(zone, "Vic", key)).status_code == 201
        await asyncio.sleep(0.3)
        later = await reg.create_node(zone, "Manlleu", key)
        assert later.status_code == 201 and REPLAYED not in later.headers
        await asyncio.sleep(0.3)
        assert (await reg.create_node(zone, "Roda", str(uuid4()))).status_code == 201
        async with reg.svc.runtime.uow() as uow:
            keys = await uow.session.scalar(select(func.count()).select_from(idempotency))
        assert keys == 1  # the expired ones were pruned as new keys were written


@contextlib.asynccontextmanager
async def registry_behind_proxy(
    database_url: str, nats_url: str
) -> AsyncIterator[tuple[Client, PgProxy]]:
    async with pg_proxy(database_url) as proxy, registry(proxy.url(), nats_url) as reg:
        yield reg, proxy


async def test_a_commit_whose_answer_is_lost_is_answered_to_the_retry(
    database_url: str, nats_url: str
) -> None:
    async with registry_behind_proxy(database_url, nats_url) as (reg, proxy):
        zone, key, name = await reg.zone(), str(uuid4()), f"lost-{uuid4().hex}"
        proxy.cut_after_commit(name.encode(), deliver_answer=False)
        lost = await reg.create_node(zone, name, key)
        assert proxy.cut_done.is_set()
        assert lost.status_code >= 500  # the service cannot know the commit happened

        proxy.restore()
        retried = await reg.create_node(zone, name, key)
        assert retried.status_code == 201, retried.text
        assert retried.headers[REPLAYED] == "true"
        assert await reg.nodes_named(name) == 1
        stored = await reg.http.get(f"/api/v1/nodes/{retried.json()['id']}")
        assert stored.json() == retried.json()


async def test_the_database_going_away_after_a_commit_is_no_500(
    database_url: str, nats_url: str
) -> None:
    async with registry_behind_proxy(database_url, nats_url) as (reg, proxy):
        zone, key, name = await reg.zone(), str(uuid4()), f"gone-{uuid4().hex}"
        proxy.cut_after_commit(name.encode(), deliver_answer=True)
        created = await reg.create_node(zone, name, key)
        assert proxy.cut_done.is_set()
        assert created.status_code == 201, created.text  # built before the commit
        node_id = created.json()["id"]

        proxy.restore()
        retried = await reg.create_node(zone, name, key)
        assert retried.status_code == 201 and retried.headers[REPLAYED] == "true"
        assert retried.content == created.content
        assert await reg.nodes_named(name) == 1

        # A change answers from what it wrote too.
        note = f"moved-{uuid4().hex}"
        proxy.cut_after_commit(note.encode(), deliver_answer=True)
        moved = await reg.http.patch(f"/api/v1/nodes/{node_id}", json={"description": note})
        assert proxy.cut_done.is_set()
        assert moved.status_code == 200, moved.text
        assert moved.json()["description"] == note and moved.json()["version"] == 2


def _once(key: str, route: str) -> Idempotency:
    return Idempotency(
        table=idempotency,
        key=key,
        caller=str(ADMIN.id),  # the admin token's, which the test's requests send
        route=route,
        request_hash="held by the test",
        ttl_s=60,
        wait_s=1,
    )


async def test_every_creating_route_takes_a_key(database_url: str, nats_url: str) -> None:
    async with registry(database_url, nats_url) as reg:
        spec = reg.svc.app.openapi()
    # Replaying a dead letter creates nothing: a second replay finds it gone (404), and the
    # consumers' inboxes make a redelivered event a no-op.
    creating = [
        path
        for path, ops in spec["paths"].items()
        if "post" in ops and path != "/api/v1/cnml" and not path.startswith("/api/v1/deadletters")
    ]
    assert creating
    for path in [*creating, "/api/v1/cnml"]:
        params = spec["paths"][path]["post"].get("parameters", [])
        assert KEY in {p["name"] for p in params if p["in"] == "header"}, path


def _cnml(title: str) -> bytes:
    return (
        '<cnml><class network_description="nodes"/><network>'
        f'<zone id="999999" title="{title}" created="20160101 1000">\n'
        '<node id="54397" title="x" lat="43.2" lon="-2.0" status="Working"/>\n'
        "</zone></network></cnml>"
    ).encode()


async def test_a_cnml_import_with_a_key_is_answered_once(database_url: str, nats_url: str) -> None:
    async with registry(database_url, nats_url) as reg:
        key = str(uuid4())

        async def post(body: bytes) -> httpx.Response:
            headers = {KEY: key, "Content-Type": "application/xml"}
            return await reg.http.post("/api/v1/cnml", content=body, headers=headers)

        first, again = await post(_cnml("Andoain")), await post(_cnml("Andoain"))
        assert first.status_code == again.status_code == 200, again.text
        assert again.headers[REPLAYED] == "true" and again.content == first.content
        assert first.json()["records"]["zones"]["created"] == 1

        other = await post(_cnml("Andoain berria"))
        assert other.status_code == 422 and "already used" in other.json()["detail"]
