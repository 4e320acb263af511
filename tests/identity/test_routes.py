"""Who may call what: each route refuses anonymous callers (401), callers without the role
or right (403, naming it), and lets the allowed caller through; contact data is shown only
to whom it concerns."""

from __future__ import annotations

import re
from typing import Any
from uuid import uuid4

import pytest

from tests.identity.support import Identity

pytestmark = pytest.mark.integration

PUBLIC = {("POST", "/api/v1/auth/login")}
"""The one mutating route a caller without credentials may use."""


EXAMPLES = {"{token_id}": "abc", "{seq}": "1"}
"""Path parameters that are not uuids (a dead letter's sequence is an integer)."""


def _example_path(path: str) -> str:
    return re.sub(r"\{[^}]+\}", lambda m: EXAMPLES.get(m.group(0)) or str(uuid4()), path)


async def test_every_mutating_route_refuses_anonymous_callers(identity: Identity) -> None:
    spec: dict[str, Any] = (await identity.http.get("/api/v1/openapi.json")).json()
    walked = 0
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            if method.upper() not in {"POST", "PUT", "PATCH", "DELETE"}:
                continue
            if (method.upper(), path) in PUBLIC:
                continue
            walked += 1
            # The security scheme is documented on the route (the shared dead-letter routes
            # still take the operators' admin token)...
            assert operation.get("security") in ([{"bearer": []}], [{"AdminToken": []}]), (
                method,
                path,
            )
            # ...and enforced before the body is even looked at.
            response = await identity.http.request(method, _example_path(path), json={})
            assert response.status_code == 401, (method, path, response.text)
            assert response.headers["WWW-Authenticate"].startswith("Bearer"), (method, path)
    assert walked >= 15
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


async def test_group_roles_are_enforced(identity: Identity) -> None:
    admin_id, admin = await identity.member("admin1")
    group = await identity.group(admin)
    admin = await identity.relogin("admin1")
    plain_id, _ = await identity.member("plain1")
    outsider_id, outsider = await identity.member("outsider1")
    other_group = await identity.group(outsider)
    outsider = await identity.relogin("outsider1")

    # The group admin adds a plain member, and names a researcher.
    added = await identity.http.put(
        f"/api/v1/groups/{group}/members/{plain_id}", json={"roles": []}, headers=admin
    )
    assert added.status_code == 200, added.text
    plain = await identity.relogin("plain1")

    # A member without the role may not add anyone...
    refused = await identity.http.put(
        f"/api/v1/groups/{group}/members/{outsider_id}", json={"roles": []}, headers=plain
    )
    assert refused.status_code == 403
    assert "group_admin" in refused.json()["detail"] and str(group) in refused.json()["detail"]
    # ...nor may the admin of another group.
    refused = await identity.http.put(
        f"/api/v1/groups/{group}/members/{outsider_id}",
        json={"roles": ["slice_admin"]},
        headers=outsider,
    )
    assert refused.status_code == 403
    refused = await identity.http.patch(
        f"/api/v1/groups/{group}", json={"description": "mine"}, headers=outsider
    )
    assert refused.status_code == 403
    # What only operators decide: allowances and quotas.
    for path, body in (("allow", {"allow_slices": True}), ("quotas", {"slivers": 10})):
        refused = await identity.http.put(
            f"/api/v1/groups/{group}/{path}", json=body, headers=admin
        )
        assert refused.status_code == 403 and "operators only" in refused.json()["detail"]
        allowed = await identity.http.put(
            f"/api/v1/groups/{group}/{path}", json=body, headers=identity.operator
        )
        assert allowed.status_code == 200, allowed.text
    shown = (await identity.http.get(f"/api/v1/groups/{group}", headers=plain)).json()
    assert shown["allow_slices"] is True and shown["allow_nodes"] is False
    assert shown["quotas"] == {"slivers": 10, "memory_mb": None, "disk_mb": None, "images": None}

    # The last group admin cannot leave the group adminless; a member may leave by themself.
    stuck = await identity.http.delete(f"/api/v1/groups/{group}/members/{admin_id}", headers=admin)
    assert stuck.status_code == 409
    left = await identity.http.delete(f"/api/v1/groups/{group}/members/{plain_id}", headers=plain)
    assert left.status_code == 204
    assert other_group


async def test_roles_reach_the_token_at_its_next_issue(identity: Identity) -> None:
    _, admin = await identity.member("admin2")
    group = await identity.group(admin)
    researcher_id, _ = await identity.member("researcher2")
    await identity.http.put(
        f"/api/v1/groups/{group}/members/{researcher_id}",
        json={"roles": ["slice_admin", "node_admin"]},
        headers=await identity.relogin("admin2"),
    )
    zone = str(uuid4())
    maintained = await identity.http.post(
        "/api/v1/maintainers", json={"zone_id": zone, "group_id": group}, headers=identity.operator
    )
    assert maintained.status_code == 201, maintained.text
    who = await identity.http.get(
        "/api/v1/auth/whoami", headers=await identity.relogin("researcher2")
    )
    assert who.json()["groups"] == {group: ["node_admin", "slice_admin"]}
    assert who.json()["zones"] == [zone]


async def test_only_operators_make_members_and_maintainers(identity: Identity) -> None:
    _, member = await identity.member()
    body = {"login": "newone", "display_name": "New", "password": "long-enough-pw"}
    refused = await identity.http.post("/api/v1/members", json=body, headers=member)
    assert refused.status_code == 403 and "operators only" in refused.json()["detail"]
    refused = await identity.http.post(
        "/api/v1/maintainers",
        json={"zone_id": str(uuid4()), "group_id": str(uuid4())},
        headers=member,
    )
    assert refused.status_code == 403
    refused = await identity.http.post(
        "/api/v1/tools", json={"login": "bot", "display_name": "Bot"}, headers=member
    )
    assert refused.status_code == 403


async def test_contact_data_is_shown_only_to_whom_it_concerns(identity: Identity) -> None:
    member_id, member = await identity.member("rita", email="rita@example.net")
    _, stranger = await identity.member("sergi")
    _, admin = await identity.member("teresa")
    group = await identity.group(admin)
    await identity.http.put(
        f"/api/v1/groups/{group}/members/{member_id}",
        json={"roles": []},
        headers=await identity.relogin("teresa"),
    )
    admin = await identity.relogin("teresa")

    def email(response: Any) -> Any:
        assert response.status_code == 200, response.text
        return response.json()["email"]

    path = f"/api/v1/members/{member_id}"
    assert email(await identity.http.get(path, headers=member)) == "rita@example.net"
    assert email(await identity.http.get(path, headers=admin)) == "rita@example.net"
    assert email(await identity.http.get(path, headers=identity.operator)) == "rita@example.net"
    assert email(await identity.http.get(path, headers=stranger)) is None
    listed = await identity.http.get("/api/v1/members", params={"login": "rita"}, headers=stranger)
    assert listed.json()[0]["email"] is None


async def test_tool_accounts_get_tokens_from_operators(identity: Identity) -> None:
    tool = await identity.http.post(
        "/api/v1/tools", json={"login": "mapper", "display_name": "Map"}, headers=identity.operator
    )
    assert tool.status_code == 201, tool.text
    tool_id = tool.json()["id"]
    _, member = await identity.member()
    body = {"name": "ci", "scopes": ["images.publish"], "account_id": tool_id}
    refused = await identity.http.post("/api/v1/tokens", json=body, headers=member)
    assert refused.status_code == 403
    made = await identity.http.post("/api/v1/tokens", json=body, headers=identity.operator)
    assert made.status_code == 201, made.text
    access = await identity.http.post(
        "/api/v1/auth/token", headers={"Authorization": f"Bearer {made.json()['token']}"}
    )
    principal = await identity.verifier().verify(access.json()["access_token"])
    assert principal.kind == "tool" and principal.scopes == {"images.publish"}
    bad = await identity.http.post(
        "/api/v1/tokens", json={"name": "x", "scopes": ["nope"]}, headers=member
    )
    assert bad.status_code == 422 and "unknown scopes" in bad.text
