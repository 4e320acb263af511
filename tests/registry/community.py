"""A registry with callers of every kind, for the tests of who may do what.

Groups: ``G`` may have nodes, ``H`` may not, ``O`` is another group (may have nodes).
Zones: ``root`` / ``a`` / ``a1`` and ``root`` / ``b`` (each with a guifi.net id).
Callers: ``ana`` (node_admin of G), ``gadmin`` (group_admin of G), ``sam`` (slice_admin of
G: a member without the role), ``oto`` (group and node admin of O: another group's member),
``mia`` (maintains ``a``), ``bea`` (maintains ``b``), ``operator``, ``reader`` (ana's rights
through a token limited to ``registry.read``), ``writer`` (ana's through one limited to
``registry.write``), ``expired`` (ana's token, expired), ``revoked`` (ana's rights and a
revoked session), ``anonymous`` (no credentials).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import httpx
import nats

from guificloud.auth import Principal
from guificloud.testing.authority import ADMIN_TOKEN, TestAuthority, bearer

FRESH = itertools.count(9_200_000)
"""guifi.net ids no other record of a module has."""


@dataclass
class Community:
    http: httpx.Client
    authority: TestAuthority
    nats_url: str
    database_url: str
    groups: dict[str, UUID] = field(default_factory=dict)
    zones: dict[str, dict[str, Any]] = field(default_factory=dict)
    callers: dict[str, Principal] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def headers(self, who: str) -> dict[str, str]:
        if who == "anonymous":
            return {}
        if who == "admin":
            return bearer(ADMIN_TOKEN)
        return bearer(self.tokens[who])

    def call(
        self, who: str, method: str, path: str, headers: dict[str, str] | None = None, **kw: Any
    ) -> httpx.Response:
        headers = {**self.headers(who), **(headers or {})}
        return self.http.request(method, path, headers=headers, **kw)

    def made(self, who: str, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """A request that must succeed (setting a test up), as its JSON."""
        response = self.call(who, method, path, **kwargs)
        assert response.status_code in (200, 201), response.text
        return dict(response.json())

    def zone(self, parent: str, who: str = "admin") -> dict[str, Any]:
        body = {"name": f"zone {uuid4().hex[:6]}", "parent_id": self.zones[parent]["id"]}
        return self.made(who, "POST", "/api/v1/zones", json=body)

    def node(
        self, zone: str = "a1", who: str = "ana", group: str | None = "G", **fields: Any
    ) -> dict[str, Any]:
        body = {
            "name": f"node {uuid4().hex[:6]}",
            "zone_id": self.zones[zone]["id"],
            "latitude": 41.9,
            "longitude": 2.2,
            **fields,
        }
        if group is not None:
            body["owner_group_id"] = str(self.groups[group])
        return self.made(who, "POST", "/api/v1/nodes", json=body)

    def device(self, node: dict[str, Any], who: str = "ana", **fields: Any) -> dict[str, Any]:
        body = {"name": f"dev {uuid4().hex[:6]}", "type": "radio", **fields}
        return self.made(who, "POST", f"/api/v1/nodes/{node['id']}/devices", json=body)

    def service(self, device: dict[str, Any], who: str = "ana") -> dict[str, Any]:
        body = {"type": "DNS", "name": f"dns {uuid4().hex[:6]}"}
        return self.made(who, "POST", f"/api/v1/devices/{device['id']}/services", json=body)

    async def last_event(self, subject: str, **match: str) -> dict[str, Any]:
        """The data of the newest event on ``subject`` whose fields are ``match`` (waiting a
        little: events leave through the outbox just after the commit)."""
        nc = await nats.connect(self.nats_url)
        try:
            js = nc.jetstream()
            deadline = time.monotonic() + 10
            while True:
                message = await js.get_last_msg("REGISTRY", subject)
                data: dict[str, Any] = json.loads(message.data)["data"]
                if all(data.get(k) == v for k, v in match.items()):
                    return data
                assert time.monotonic() < deadline, (subject, match, data)
                await asyncio.sleep(0.05)
        finally:
            await nc.close()


def cloud_box(**fields: Any) -> dict[str, Any]:
    hardware = {"arch": "amd64", "cores": 2, "ram_mb": 4096, "disk_gb": 120}
    return {"name": f"box {uuid4().hex[:6]}", "type": "cloudy", "hardware": hardware, **fields}


def cnml(zone_ext: int, parent_ext: int | None, nodes: tuple[int, ...] = ()) -> bytes:
    """A ``nodes`` export of one zone (hanging under ``parent_ext``) with ``nodes``."""
    parent = f' parent_id="{parent_ext}"' if parent_ext is not None else ""
    listed = "".join(
        f'<node id="{n}" title="n{n}" lat="41.9" lon="2.2" status="Working"/>' for n in nodes
    )
    return (
        '<cnml><class network_description="nodes"/><network>'
        f'<zone id="{zone_ext}"{parent} title="z{zone_ext}" created="20160101 1000">'
        f"{listed}</zone></network></cnml>"
    ).encode()


async def build(
    http: httpx.Client, authority: TestAuthority, nats_url: str, database_url: str
) -> Community:
    c = Community(http, authority, nats_url, database_url)
    g, h, o = uuid4(), uuid4(), uuid4()
    c.groups = {"G": g, "H": h, "O": o}
    await authority.group(nats_url, g, allow_nodes=True)
    await authority.group(nats_url, h, allow_nodes=False)
    await authority.group(nats_url, o, allow_nodes=True)

    root = c.made(
        "admin", "POST", "/api/v1/zones", json={"name": "root", "external_id": next(FRESH)}
    )
    c.zones["root"] = root
    for name, parent in (("a", "root"), ("a1", "a"), ("b", "root")):
        body = {"name": name, "parent_id": c.zones[parent]["id"], "external_id": next(FRESH)}
        c.zones[name] = c.made("admin", "POST", "/api/v1/zones", json=body)

    a, b = UUID(c.zones["a"]["id"]), UUID(c.zones["b"]["id"])
    member = authority.member
    c.callers = {
        "ana": member(login="ana", groups={g: {"node_admin"}}),
        "gadmin": member(login="gadmin", groups={g: {"group_admin"}}),
        "sam": member(login="sam", groups={g: {"slice_admin"}}),
        "oto": member(login="oto", groups={o: {"group_admin", "node_admin"}}),
        "mia": member(login="mia", zones={a}),
        "bea": member(login="bea", zones={b}),
        "operator": authority.operator(),
        "revoked": member(login="gone", groups={g: {"node_admin", "group_admin"}}, zones={a}),
    }
    ana = c.callers["ana"]
    c.callers["reader"] = member(login="ana-ro", groups=ana.groups, scopes=["registry.read"])
    c.callers["writer"] = member(login="ana-ci", groups=ana.groups, scopes=["registry.write"])
    c.tokens = {who: authority.token(p) for who, p in c.callers.items()}
    c.tokens["expired"] = authority.token(ana, issued_at=int(time.time()) - 3600)

    await authority.revoke(nats_url, c.callers["revoked"])
    await _until_groups_known(database_url, {g, h, o})
    probe = f"/api/v1/nodes/{uuid4()}"
    deadline = time.monotonic() + 10
    while c.call("revoked", "PATCH", probe, json={}).status_code != 401:
        assert time.monotonic() < deadline, "the revocation never reached the registry"
        time.sleep(0.1)
    return c


async def _until_groups_known(database_url: str, groups: set[UUID]) -> None:
    conn = await asyncpg.connect(database_url.replace("+asyncpg", ""))
    try:
        deadline = time.monotonic() + 15
        while True:
            rows = await conn.fetch("SELECT group_id FROM registry.group_facts")
            if groups <= {r["group_id"] for r in rows}:
                return
            assert time.monotonic() < deadline, "the registry never heard of the groups"
            await asyncio.sleep(0.1)
    finally:
        await conn.close()
