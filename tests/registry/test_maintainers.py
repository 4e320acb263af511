"""Zone maintainers manage their zone's whole subtree, and nothing outside it: zones, the
nodes in them (owned or not) and CNML imports. ``mia`` maintains ``a`` (with ``a1`` under
it); ``bea`` maintains ``b``."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.registry.community import FRESH, Community, cnml

pytestmark = pytest.mark.integration


def _import(c: Community, who: str, body: bytes, **params: Any) -> httpx.Response:
    headers = {**c.headers(who), "Content-Type": "application/xml"}
    return c.http.post("/api/v1/cnml", content=body, headers=headers, params=params)


def _zone_ids(c: Community, external_id: int) -> list[str]:
    found = c.call("anonymous", "GET", "/api/v1/zones", params={"external_id": external_id})
    return [z["id"] for z in found.json()]


def test_zones_in_the_subtree_and_not_beyond(c: Community) -> None:
    deep = c.zone("a1", who="mia")  # under a zone under hers
    deeper = c.made("mia", "POST", "/api/v1/zones", json={"name": "x", "parent_id": deep["id"]})
    assert deeper["parent_id"] == deep["id"]
    outside = {"name": "x", "parent_id": c.zones["b"]["id"]}
    refused = c.call("mia", "POST", "/api/v1/zones", json=outside)
    assert refused.status_code == 403 and "maintaining zone" in refused.json()["detail"]
    top = c.call("mia", "POST", "/api/v1/zones", json={"name": "x"})
    assert top.status_code == 403 and "operators only" in top.json()["detail"]

    a = c.zones["a"]["id"]
    assert c.call("mia", "PATCH", f"/api/v1/zones/{a}", json={"nick": "a"}).status_code == 200
    assert c.call("bea", "PATCH", f"/api/v1/zones/{a}", json={"nick": "b"}).status_code == 403
    root = c.zones["root"]["id"]
    assert c.call("mia", "PATCH", f"/api/v1/zones/{root}", json={"nick": "r"}).status_code == 403

    # A move needs the new parent too: out of her subtree, refused; within it, done.
    move_out = c.call(
        "mia", "PATCH", f"/api/v1/zones/{deep['id']}", json={"parent_id": c.zones["b"]["id"]}
    )
    assert move_out.status_code == 403 and c.zones["b"]["id"] in move_out.json()["detail"]
    to_top = c.call("mia", "PATCH", f"/api/v1/zones/{deep['id']}", json={"parent_id": None})
    assert to_top.status_code == 403
    within = c.call("mia", "PATCH", f"/api/v1/zones/{deep['id']}", json={"parent_id": a})
    assert within.status_code == 200 and within.json()["parent_id"] == a
    # bea cannot pull a zone of mia's into her subtree either.
    pull = c.call(
        "bea", "PATCH", f"/api/v1/zones/{deep['id']}", json={"parent_id": c.zones["b"]["id"]}
    )
    assert pull.status_code == 403


def test_nodes_in_the_subtree_whoever_owns_them(c: Community) -> None:
    in_a1 = c.node(zone="a1", who="oto", group="O")  # another group's node in mia's subtree
    path = f"/api/v1/nodes/{in_a1['id']}"
    assert c.call("mia", "PATCH", path, json={"nick": "m"}).status_code == 200
    assert c.call("bea", "PATCH", path, json={"nick": "b"}).status_code == 403
    in_b = c.node(zone="b", who="ana", group="G")
    refused = c.call("mia", "DELETE", f"/api/v1/nodes/{in_b['id']}")
    assert refused.status_code == 403 and "maintaining its zone" in refused.json()["detail"]
    assert c.call("bea", "DELETE", f"/api/v1/nodes/{in_b['id']}").status_code == 204

    # Moving a node away from her subtree leaves it out of her reach.
    moved = c.call("mia", "PATCH", path, json={"zone_id": c.zones["b"]["id"]})
    assert moved.status_code == 200
    assert c.call("mia", "PATCH", path, json={"nick": "again"}).status_code == 403


def test_cnml_import_within_the_subtree(c: Community) -> None:
    a_ext, b_ext = c.zones["a"]["external_id"], c.zones["b"]["external_id"]
    zone, node = next(FRESH), next(FRESH)
    assert _import(c, "mia", cnml(zone, a_ext, nodes=(node,))).status_code == 200
    assert _import(c, "mia", cnml(zone, a_ext, nodes=(node,))).json()["events"] == 0

    under_b = next(FRESH)
    for params in ({}, {"dry_run": "true"}):
        refused = _import(c, "mia", cnml(under_b, b_ext), **params)
        assert refused.status_code == 403, refused.text
        assert "outside the zones mia maintains" in refused.json()["detail"]
    assert _zone_ids(c, under_b) == []  # nothing imported
    top = _import(c, "mia", cnml(next(FRESH), None))
    assert top.status_code == 403 and "operators only" in top.json()["detail"]

    # Naming a stored record from elsewhere would change or move it: refused.
    elsewhere = next(FRESH)
    assert _import(c, "bea", cnml(next(FRESH), b_ext, nodes=(elsewhere,))).status_code == 200
    stolen = _import(c, "mia", cnml(next(FRESH), a_ext, nodes=(elsewhere,)))
    assert stolen.status_code == 403 and "node" in stolen.json()["detail"]
    moved_zone = _import(c, "mia", cnml(zone, b_ext))  # her zone, hung under b
    assert moved_zone.status_code == 403
    assert _import(c, "bea", cnml(zone, b_ext)).status_code == 403  # not hers to take

    # Operators import anywhere.
    assert _import(c, "operator", cnml(under_b, b_ext)).status_code == 200
    assert len(_zone_ids(c, under_b)) == 1


@pytest.fixture
def c(community: Community) -> Community:
    return community
