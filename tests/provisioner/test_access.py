"""Who may do what in the provisioner, route by route (the README's matrix): for each row the
allowed callers succeed, and an anonymous caller (401), another group's member (403), a
member without the role (403), an expired token (401) and a revoked one (401) are refused.
One provisioner for the module: refusals change nothing, and each success works on a slice
of its own."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID, uuid4

import httpx
import nats
import pytest
import pytest_asyncio
from sqlalchemy import text

from guificloud.auth import Principal
from guificloud.db.engine import make_engine
from guificloud.events.registry import NodeOwnerChanged, Ownership
from guificloud.testing.authority import ADMIN_TOKEN, TestAuthority, bearer
from guificloud.testing.plugin import fresh_database
from guificloud.testing.servers import Servers
from tests.provisioner.slices_support import Harness, SimBox, harness

pytestmark = pytest.mark.integration

SMALL = {"memory_mb": 32, "disk_mb": 10}


@dataclass
class World:
    h: Harness
    bare: httpx.AsyncClient
    """Sends only the headers given (``h.client`` sends the slice admin's token)."""
    boxes: list[SimBox]
    """Owned by ``owner`` and the group ``owner_group``; slices go on the first."""
    owner_group: UUID
    slice_id: str = ""
    sliver_id: str = ""
    callers: dict[str, dict[str, str]] = field(default_factory=dict)

    async def new_slice(self) -> tuple[str, str]:
        """A slice of the group, made by its slice admin, with one sliver on the first box."""
        made = await self.h.create_slice(
            placement={"boxes": [str(self.boxes[0].id)]}, sliver_defaults=SMALL
        )
        (sliver,) = await self.h.slivers(made["id"])
        return made["id"], sliver["id"]


async def _fresh_streams(servers: Servers) -> str:
    """What ``nats_url`` does per test, once for the module."""
    nc = await nats.connect(servers.nats_url)
    try:
        js = nc.jetstream()
        for info in await js.streams_info():
            await js.delete_stream(info.config.name or "")
    finally:
        await nc.close()
    return servers.nats_url


async def _revoked(w: World, principal: Principal, probe: str) -> dict[str, str]:
    """``principal``'s headers once its revocation has reached the provisioner."""
    headers = w.h.headers(principal)
    assert (await w.h.client.get(probe, headers=headers)).status_code == 200
    await w.h.authority.revoke(w.h.nats_url, principal)
    deadline = time.monotonic() + 10
    while (await w.h.client.get(probe, headers=headers)).status_code != 401:
        assert time.monotonic() < deadline, "the revocation never reached the provisioner"
        await asyncio.sleep(0.1)
    return headers


@pytest_asyncio.fixture(scope="module")
async def world(
    servers: Servers, authority: TestAuthority, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[World]:
    nats_url = await _fresh_streams(servers)
    async with (
        fresh_database(servers, prefix="provaccess") as database_url,
        harness(authority, database_url, nats_url, tmp_path_factory.mktemp("prov")) as h,
        httpx.AsyncClient(base_url=h.client.base_url, timeout=10) as bare,
    ):
        await h.publish_images()
        owner = authority.member(login="node-owner")
        owner_group = uuid4()
        boxes = await h.boxes(
            2,
            zone_id=await h.zone(),
            owner=Ownership(owner_account_id=owner.id, owner_group_id=owner_group),
        )
        w = World(h=h, bare=bare, boxes=boxes, owner_group=owner_group)
        g, other = h.group, uuid4()
        assert h.manager is not None

        def member(name: str, groups: dict[UUID, set[Any]]) -> Principal:
            return authority.member(login=name, groups=groups)

        def expired(principal: Principal) -> dict[str, str]:
            return bearer(authority.token(principal, issued_at=int(time.time()) - 3600))

        technician = member("technician", {owner_group: {"node_admin"}})
        operator = authority.operator()
        w.callers = {
            "anonymous": {},
            "slice_admin": h.headers(h.manager),
            "group_admin": h.headers(member("group-admin", {g: {"group_admin"}})),
            "member": h.headers(member("member", {g: {"node_admin"}})),
            "other_group": h.headers(
                member("stranger", {other: {"slice_admin", "group_admin", "node_admin"}})
            ),
            "operator": h.headers(operator),
            "admin_token": bearer(ADMIN_TOKEN),
            "expired_slice_admin": expired(h.manager),
            "owner": h.headers(owner),
            "technician": h.headers(technician),
            "owner_group_admin": h.headers(member("owner-admin", {owner_group: {"group_admin"}})),
            "owner_member": h.headers(member("owner-member", {owner_group: {"slice_admin"}})),
            "expired_technician": expired(technician),
            "expired_operator": expired(operator),
        }
        w.slice_id, w.sliver_id = await w.new_slice()
        config = f"/api/v1/boxes/{boxes[0].id}/config"
        w.callers["revoked_slice_admin"] = await _revoked(
            w, member("leaver", {g: {"slice_admin"}}), f"/api/v1/slices/{w.slice_id}"
        )
        w.callers["revoked_technician"] = await _revoked(
            w, member("ex-technician", {owner_group: {"node_admin"}}), config
        )
        w.callers["revoked_operator"] = await _revoked(w, authority.operator(), config)
        yield w


Target = dict[str, str]
Body = Callable[[World, Target], dict[str, Any] | None]


@dataclass(frozen=True)
class Row:
    name: str
    method: str
    path: str
    """With ``{slice}``, ``{sliver}`` and ``{box}`` from the target."""
    ok: int
    allowed: tuple[str, ...]
    refused: dict[str, str]
    """Kind of refusal -> the caller that shows it."""
    says: str
    """What a 403 names."""
    body: Body = lambda _w, _t: None


MANAGERS = ("slice_admin", "group_admin", "operator")
READERS = ("slice_admin", "member", "operator")
SLICE_WRITE = {
    "anonymous": "anonymous",
    "other_group": "other_group",
    "no_role": "member",
    "expired": "expired_slice_admin",
    "revoked": "revoked_slice_admin",
}
SLICE_READ = {k: v for k, v in SLICE_WRITE.items() if k != "no_role"}
BOX_CONFIG = {
    "anonymous": "anonymous",
    "other_group": "other_group",
    "no_role": "owner_member",
    "expired": "expired_technician",
    "revoked": "revoked_technician",
}
OPERATORS = {
    "anonymous": "anonymous",
    "other_group": "other_group",
    "no_role": "owner_group_admin",
    "expired": "expired_operator",
    "revoked": "revoked_operator",
}
ROLE = "requires role slice_admin or group_admin"


def _new_slice(w: World, _t: Target) -> dict[str, Any]:
    return {
        "name": "made",
        "group_id": str(w.h.group),
        "image": {"name": "webapp"},
        "placement": {"count": 1},
        "sliver_defaults": SMALL,
    }


ROWS = [
    Row("create slice", "POST", "/api/v1/slices", 201, MANAGERS, SLICE_WRITE, ROLE, _new_slice),
    Row(
        "change state",
        "PATCH",
        "/api/v1/slices/{slice}",
        200,
        MANAGERS,
        SLICE_WRITE,
        ROLE,
        lambda _w, _t: {"set_state": "deploy"},
    ),
    Row(
        "rename",
        "PUT",
        "/api/v1/slices/{slice}",
        200,
        MANAGERS,
        SLICE_WRITE,
        ROLE,
        lambda _w, _t: {"name": "renamed"},
    ),
    Row("renew", "POST", "/api/v1/slices/{slice}/renew", 200, MANAGERS, SLICE_WRITE, ROLE),
    Row("reset", "POST", "/api/v1/slices/{slice}/reset", 200, MANAGERS, SLICE_WRITE, ROLE),
    Row("delete slice", "DELETE", "/api/v1/slices/{slice}", 202, MANAGERS, SLICE_WRITE, ROLE),
    Row(
        "add sliver",
        "POST",
        "/api/v1/slices/{slice}/slivers",
        201,
        MANAGERS,
        SLICE_WRITE,
        ROLE,
        lambda w, _t: {"box_id": str(w.boxes[1].id)},
    ),
    Row(
        "change sliver",
        "PATCH",
        "/api/v1/slivers/{sliver}",
        200,
        MANAGERS,
        SLICE_WRITE,
        ROLE,
        lambda _w, _t: {"set_state": "register"},
    ),
    Row("delete sliver", "DELETE", "/api/v1/slivers/{sliver}", 202, MANAGERS, SLICE_WRITE, ROLE),
    Row("read slice", "GET", "/api/v1/slices/{slice}", 200, READERS, SLICE_READ, "its members"),
    Row(
        "list slivers",
        "GET",
        "/api/v1/slices/{slice}/slivers",
        200,
        READERS,
        SLICE_READ,
        "its members",
    ),
    Row("read sliver", "GET", "/api/v1/slivers/{sliver}", 200, READERS, SLICE_READ, "its members"),
    Row(
        "box config",
        "GET",
        "/api/v1/boxes/{box}/config",
        200,
        ("owner", "technician", "owner_group_admin", "operator", "admin_token"),
        BOX_CONFIG,
        "node's owners",
    ),
    Row(
        "revoke a box's token",
        "DELETE",
        "/api/v1/boxes/{box}/token",
        204,
        ("operator", "admin_token"),
        OPERATORS,
        "operators only",
    ),
    Row(
        "move a box's distro",
        "POST",
        "/api/v1/boxes/{box}/distro",
        200,
        ("operator", "admin_token"),
        OPERATORS,
        "operators only",
        lambda _w, _t: {},
    ),
    Row(
        "move boxes' distro",
        "POST",
        "/api/v1/distros/assign",
        200,
        ("operator", "admin_token"),
        OPERATORS,
        "operators only",
        lambda _w, t: {"box_ids": [t["box"]]},
    ),
]
STATUS = {"anonymous": 401, "other_group": 403, "no_role": 403, "expired": 401, "revoked": 401}
SAYS_401 = {
    "anonymous": "authentication required",
    "expired": "expired",
    "revoked": "revoked",
}


async def _call(w: World, row: Row, target: Target, caller: str) -> httpx.Response:
    return await w.bare.request(
        row.method,
        row.path.format(**target),
        json=row.body(w, target),
        headers=w.callers[caller],
    )


@pytest.mark.parametrize(
    ("row", "caller"),
    [(row, caller) for row in ROWS for caller in row.allowed],
    ids=[f"{row.name}-{caller}" for row in ROWS for caller in row.allowed],
)
async def test_the_allowed_caller_succeeds(world: World, row: Row, caller: str) -> None:
    slice_id, sliver_id = await world.new_slice() if "{sli" in row.path else ("", "")
    target = {"slice": slice_id, "sliver": sliver_id, "box": str(world.boxes[0].id)}
    response = await _call(world, row, target, caller)
    assert response.status_code == row.ok, response.text


@pytest.mark.parametrize(
    ("row", "kind"),
    [(row, kind) for row in ROWS for kind in row.refused],
    ids=[f"{row.name}-{kind}" for row in ROWS for kind in row.refused],
)
async def test_every_other_caller_is_refused(world: World, row: Row, kind: str) -> None:
    target = {"slice": world.slice_id, "sliver": world.sliver_id, "box": str(world.boxes[0].id)}
    response = await _call(world, row, target, row.refused[kind])
    assert response.status_code == STATUS[kind], response.text
    detail = response.json()["detail"]
    if STATUS[kind] == 401:
        assert SAYS_401[kind] in detail and response.headers["WWW-Authenticate"]
    else:
        assert row.says in detail, detail


async def test_every_change_needs_credentials(world: World) -> None:
    """Walks the OpenAPI document: no route that changes something is open to anyone."""
    spec = (await world.h.client.get("/api/v1/openapi.json")).json()
    changes = [
        (method, path)
        for path, item in spec["paths"].items()
        for method in item
        if method in ("post", "put", "patch", "delete")
    ]
    assert len(changes) >= 14, changes
    for method, path in changes:
        concrete = path.replace("{", "").replace("}", "")
        for name in ("slice_id", "sliver_id", "box_id", "seq"):
            concrete = concrete.replace(name, "1" if name == "seq" else str(uuid4()))
        response = await world.bare.request(method, concrete, json={})
        assert response.status_code == 401, (method, path, response.text)
        assert "security" in spec["paths"][path][method], (method, path)


async def test_lists_show_the_callers_groups_only(world: World) -> None:
    async def listed(caller: str, **params: str) -> httpx.Response:
        return await world.bare.get("/api/v1/slices", params=params, headers=world.callers[caller])

    for caller in ("slice_admin", "member", "operator"):
        ids = [s["id"] for s in (await listed(caller)).json()]
        assert world.slice_id in ids, caller
    stranger = await listed("other_group")
    assert stranger.status_code == 200 and stranger.json() == []
    refused = await listed("other_group", group_id=str(world.h.group))
    assert refused.status_code == 403 and "its members" in refused.json()["detail"]
    assert (await listed("anonymous")).status_code == 401


async def test_a_scoped_token_reaches_only_its_scopes(world: World) -> None:
    h, g = world.h, world.h.group
    reader = h.authority.member(kind="tool", groups={g: {"slice_admin"}}, scopes=["slices.read"])
    headers = h.headers(reader)
    assert (await h.client.get(f"/api/v1/slices/{world.slice_id}", headers=headers)).is_success
    renew = await h.client.post(f"/api/v1/slices/{world.slice_id}/renew", headers=headers)
    assert renew.status_code == 403 and "slices.write" in renew.json()["detail"]
    writer = h.authority.member(kind="tool", groups={g: {"slice_admin"}}, scopes=["slices.*"])
    renew = await h.client.post(f"/api/v1/slices/{world.slice_id}/renew", headers=h.headers(writer))
    assert renew.status_code == 200, renew.text
    config = f"/api/v1/boxes/{world.boxes[0].id}/config"
    owner = h.authority.member(
        kind="tool", groups={world.owner_group: {"node_admin"}}, scopes=["slices.*"]
    )
    refused = await h.client.get(config, headers=h.headers(owner))
    assert refused.status_code == 403 and "boxes.read" in refused.json()["detail"]


async def test_slices_go_only_to_groups_that_may_have_them(world: World) -> None:
    h = world.h
    unknown, closed = uuid4(), await h.new_group(allow_slices=False)
    admin = h.authority.member(groups={unknown: {"slice_admin"}, closed: {"slice_admin"}})
    for group, says in ((unknown, "unknown to this service"), (closed, "may not have slices")):
        body = {**_new_slice(world, {}), "group_id": str(group)}
        response = await h.client.post("/api/v1/slices", json=body, headers=h.headers(admin))
        assert response.status_code == 403 and says in response.json()["detail"], response.text
    missing = {k: v for k, v in _new_slice(world, {}).items() if k != "group_id"}
    response = await h.client.post("/api/v1/slices", json=missing)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "group_id"]


async def test_a_slice_from_before_groups_is_for_operators_only(world: World) -> None:
    slice_id, _ = await world.new_slice()
    engine = make_engine(world.h.database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text("UPDATE provisioner.slices SET group_id = NULL WHERE id = :id"),
                {"id": slice_id},
            )
    finally:
        await engine.dispose()
    path, h = f"/api/v1/slices/{slice_id}", world.h
    for method, body in (("GET", None), ("PATCH", {"description": "mine"})):
        refused = await h.client.request(method, path, json=body)
        assert refused.status_code == 403 and "operators only" in refused.json()["detail"]
        allowed = await h.client.request(method, path, json=body, headers=world.callers["operator"])
        assert allowed.status_code == 200, allowed.text
    listed = (await h.client.get("/api/v1/slices")).json()
    assert slice_id not in [s["id"] for s in listed]


async def test_a_new_owner_gets_every_box_of_the_node(world: World) -> None:
    h = world.h
    first = h.authority.member(groups={world.owner_group: {"node_admin"}})
    boxes = await h.boxes(
        2,
        zone_id=world.boxes[0].zone_id,
        same_node=True,
        owner=Ownership(owner_account_id=first.id),
    )
    taker = uuid4()
    technician = h.headers(h.authority.member(groups={taker: {"node_admin"}}))
    config = [f"/api/v1/boxes/{b.id}/config" for b in boxes]
    for path in config:
        assert (await h.client.get(path, headers=h.headers(first))).status_code == 200
        assert (await h.client.get(path, headers=technician)).status_code == 403
    await h.publish(
        NodeOwnerChanged(node_id=boxes[0].node_id, owner=Ownership(owner_group_id=taker))
    )
    deadline = time.monotonic() + 15
    for path in config:
        while (await h.client.get(path, headers=technician)).status_code != 200:
            assert time.monotonic() < deadline, "the owner change never reached the box"
            await asyncio.sleep(0.05)
        assert (await h.client.get(path, headers=h.headers(first))).status_code == 403
    other = f"/api/v1/boxes/{world.boxes[0].id}/config"
    assert (await h.client.get(other, headers=technician)).status_code == 403
