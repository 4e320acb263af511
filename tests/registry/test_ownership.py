"""Who a node belongs to: its creator (and the group it names), as the events say; passing
it on; and cloud boxes only on nodes of a group that may have nodes."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

from tests.registry.community import Community, cloud_box

pytestmark = pytest.mark.integration


async def test_a_node_belongs_to_its_creator_and_the_group_it_names(c: Community) -> None:
    ana = c.callers["ana"]
    node = c.node(who="ana", group="G")
    assert node["owner_account_id"] == str(ana.id)
    assert node["owner_group_id"] == str(c.groups["G"])
    event = await c.last_event("registry.node.created", node_id=node["id"])
    assert event["owner"] == {
        "owner_account_id": str(ana.id),
        "owner_group_id": node["owner_group_id"],
    }

    device = c.device(node)
    added = await c.last_event("registry.device.added", device_id=device["id"])
    assert added["owner"] == event["owner"]

    # Any member may create a node of their own, without a group.
    mine = c.node(who="sam", group=None)
    assert mine["owner_account_id"] == str(c.callers["sam"].id)
    assert mine["owner_group_id"] is None
    # The admin token is no account: its node belongs to none unless it names one.
    assert c.node(who="admin", group=None)["owner_account_id"] is None


def test_only_operators_give_a_new_node_to_another_account(c: Community) -> None:
    someone = str(uuid4())
    body = {
        "name": "Vic",
        "zone_id": c.zones["a1"]["id"],
        "latitude": 41.9,
        "longitude": 2.2,
        "owner_account_id": someone,
    }
    refused = c.call("ana", "POST", "/api/v1/nodes", json=body)
    assert refused.status_code == 403 and "only operators" in refused.json()["detail"]
    given = c.call("operator", "POST", "/api/v1/nodes", json=body)
    assert given.status_code == 201 and given.json()["owner_account_id"] == someone
    assert (
        c.call("operator", "POST", "/api/v1/nodes", json={**body, "owner_account_id": None}).json()[
            "owner_account_id"
        ]
        is None
    )


async def test_passing_a_node_on(c: Community) -> None:
    node = c.node(who="ana", group="G")
    path = f"/api/v1/nodes/{node['id']}/owner"
    to_o = {"owner_account_id": node["owner_account_id"], "owner_group_id": str(c.groups["O"])}
    refused = c.call("ana", "PUT", path, json=to_o)
    assert refused.status_code == 403
    assert f"group_admin or node_admin in group {c.groups['O']}" in refused.json()["detail"]
    to_bea = {"owner_account_id": str(c.callers["bea"].id), "owner_group_id": None}
    assert c.call("ana", "PUT", path, json=to_bea).status_code == 403

    # oto, group admin of O, may take it into O once it is his to manage.
    passed = c.call(
        "operator", "PUT", path, json={**to_o, "owner_account_id": str(c.callers["oto"].id)}
    )
    assert passed.status_code == 200, passed.text
    assert passed.json()["version"] == node["version"] + 1
    event = await c.last_event("registry.node.owner_changed", node_id=node["id"])
    assert event["owner"] == {
        "owner_account_id": str(c.callers["oto"].id),
        "owner_group_id": str(c.groups["O"]),
    }
    assert (
        c.call("ana", "PATCH", f"/api/v1/nodes/{node['id']}", json={"nick": "x"}).status_code == 403
    )
    assert (
        c.call("oto", "PATCH", f"/api/v1/nodes/{node['id']}", json={"nick": "x"}).status_code == 200
    )


async def test_a_maintainer_claims_an_imported_node(c: Community) -> None:
    imported = c.node(who="admin", group=None)  # as a CNML import leaves them: no owner
    assert imported["owner_account_id"] is None and imported["owner_group_id"] is None
    path = f"/api/v1/nodes/{imported['id']}/owner"
    mia = str(c.callers["mia"].id)
    claim = {"owner_account_id": mia, "owner_group_id": None}
    assert c.call("ana", "PUT", path, json=claim).status_code == 403
    claimed = c.call("mia", "PUT", path, json=claim)
    assert claimed.status_code == 200 and claimed.json()["owner_account_id"] == mia
    event = await c.last_event("registry.node.owner_changed", node_id=imported["id"])
    assert event["owner"]["owner_account_id"] == mia


def test_a_cloud_box_needs_a_group_that_may_have_nodes(c: Community) -> None:
    def add(who: str, node: dict[str, object]) -> tuple[int, str]:
        r = c.call(who, "POST", f"/api/v1/nodes/{node['id']}/devices", json=cloud_box())
        return r.status_code, r.text

    assert add("ana", c.node(who="ana", group="G"))[0] == 201

    no_group = c.node(who="ana", group=None)
    status, text = add("ana", no_group)
    assert status == 403 and "belongs to no group" in text and "allow_nodes" in text
    assert add("operator", no_group)[0] == 201  # an operator may, on a node of no group

    not_allowed = c.node(who="operator", group="H")
    for who in ("operator", "mia"):
        status, text = add(who, not_allowed)
        assert status == 403 and "may not have nodes" in text, (who, text)

    unknown = c.node(who="operator", group=None)
    put = {"owner_account_id": None, "owner_group_id": str(uuid4())}
    assert (
        c.call("operator", "PUT", f"/api/v1/nodes/{unknown['id']}/owner", json=put).status_code
        == 200
    )
    status, text = add("operator", unknown)
    assert status == 403 and "unknown to this service" in text

    # Not around the rule: a radio turned into a cloud box, a box's node given away.
    radio = c.device(no_group)
    patch = {"type": "confine", "hardware": cloud_box()["hardware"]}
    turned = c.call("ana", "PATCH", f"/api/v1/devices/{radio['id']}", json=patch)
    assert turned.status_code == 403 and "belongs to no group" in turned.text
    with_box = c.node(who="ana", group="G")
    assert add("ana", with_box)[0] == 201
    to_h = {"owner_account_id": None, "owner_group_id": str(c.groups["H"])}
    moved = c.call("operator", "PUT", f"/api/v1/nodes/{with_box['id']}/owner", json=to_h)
    assert moved.status_code == 403 and "may not have nodes" in moved.text


def test_ownership_is_not_changed_by_a_patch(c: Community) -> None:
    node = c.node(who="ana", group="G")
    other = {"owner_group_id": str(c.groups["O"])}
    r = c.call("ana", "PATCH", f"/api/v1/nodes/{node['id']}", json=other)
    assert r.status_code == 422
    assert (
        UUID(c.call("ana", "GET", f"/api/v1/nodes/{node['id']}").json()["owner_group_id"])
        == c.groups["G"]
    )


@pytest.fixture
def c(community: Community) -> Community:
    return community
