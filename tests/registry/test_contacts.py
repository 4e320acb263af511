"""Reads are public, except contact data: a node's ``owner`` (who runs it, how to reach
them) is answered to its owners, its zone's maintainers and operators (with the
registry.read scope), and is null to everyone else: in a node, in lists and in CNML."""

from __future__ import annotations

from typing import Any

import pytest

from tests.registry.community import Community

pytestmark = pytest.mark.integration

CONTACT = "Ana Puig <ana@example.org>, +34 600 000 000"
SEES = ("ana", "gadmin", "mia", "operator", "reader")
DOES_NOT = ("anonymous", "oto", "sam", "bea", "writer")


@pytest.fixture(scope="module")
def node(community: Community) -> dict[str, Any]:
    made = community.node(zone="a1", who="ana", group="G", owner=CONTACT)
    assert made["owner"] == CONTACT
    return made


@pytest.mark.parametrize("who", SEES + DOES_NOT)
def test_a_node_and_lists(community: Community, node: dict[str, Any], who: str) -> None:
    expected = CONTACT if who in SEES else None
    got = community.call(who, "GET", f"/api/v1/nodes/{node['id']}")
    assert got.status_code == 200, got.text
    assert got.json()["owner"] == expected
    assert got.json()["name"] == node["name"]  # the rest stays public
    assert "Authorization" in got.headers["Vary"]

    listed = community.call(who, "GET", "/api/v1/nodes", params={"within": node["zone_id"]})
    assert listed.status_code == 200
    [same] = [n for n in listed.json() if n["id"] == node["id"]]
    assert same["owner"] == expected


@pytest.mark.parametrize("who", ("anonymous", "oto", "ana", "mia"))
def test_cnml_export(community: Community, node: dict[str, Any], who: str) -> None:
    zone = community.zones["a"]["id"]
    exported = community.call(who, "GET", f"/api/v1/zones/{zone}/cnml", params={"level": "nodes"})
    assert exported.status_code == 200
    assert node["name"] in exported.text
    assert ("ana@example.org" in exported.text) is (who in SEES)


def test_a_list_decides_node_by_node(community: Community, node: dict[str, Any]) -> None:
    others = community.node(zone="b", who="oto", group="O", owner="Oto <oto@example.org>")
    listed = community.call("ana", "GET", "/api/v1/nodes", params={"limit": 1000}).json()
    owners = {n["id"]: n["owner"] for n in listed}
    assert owners[node["id"]] == CONTACT
    assert owners[others["id"]] is None
    every = community.call("operator", "GET", "/api/v1/nodes", params={"limit": 1000}).json()
    assert {n["id"]: n["owner"] for n in every}[others["id"]] == "Oto <oto@example.org>"


def test_a_bad_token_on_a_public_read_is_still_refused(
    community: Community, node: dict[str, Any]
) -> None:
    for who in ("expired", "revoked"):
        got = community.call(who, "GET", f"/api/v1/nodes/{node['id']}")
        assert got.status_code == 401, (who, got.text)
