"""Input the OpenAPI document forbids is refused (422), and what the routes answer is in the
document: the fuzzer checks both, these pin the cases it found."""

from __future__ import annotations

from typing import Any

import pytest

from tests.identity.support import Identity

pytestmark = pytest.mark.integration


async def test_flags_and_quotas_take_json_booleans_and_integers_only(identity: Identity) -> None:
    _, admin = await identity.member("yago")
    group = await identity.group(admin)
    tool = await identity.http.post(
        "/api/v1/tools", json={"login": "bot", "display_name": "Bot"}, headers=identity.operator
    )
    assert tool.status_code == 201, tool.text
    member = {"login": "zoe", "display_name": "Zoe", "password": "long-enough-pw"}
    refused = [
        ("POST", "/api/v1/members", {**member, "is_operator": 0}),
        ("PATCH", f"/api/v1/tools/{tool.json()['id']}", {"disabled": 0}),
        ("PUT", f"/api/v1/groups/{group}/allow", {"allow_slices": 0}),
        ("PUT", f"/api/v1/groups/{group}/allow", {"allow_nodes": "yes"}),
        ("PUT", f"/api/v1/groups/{group}/quotas", {"images": False}),
        ("PUT", f"/api/v1/groups/{group}/quotas", {"slivers": "4"}),
        (
            "POST",
            "/api/v1/tokens",
            {"name": "t", "scopes": ["identity.read"], "expires_in_days": True},
        ),
    ]
    for method, path, body in refused:
        response = await identity.http.request(method, path, json=body, headers=identity.operator)
        assert response.status_code == 422, (method, path, body, response.text)
    allowed = await identity.http.put(
        f"/api/v1/groups/{group}/allow", json={"allow_slices": True}, headers=identity.operator
    )
    assert allowed.status_code == 200 and allowed.json()["allow_slices"] is True
    quotas = await identity.http.put(
        f"/api/v1/groups/{group}/quotas", json={"images": 0}, headers=identity.operator
    )
    assert quotas.status_code == 200 and quotas.json()["quotas"]["images"] == 0


async def test_a_member_changes_themself_at_me(identity: Identity) -> None:
    member_id, member = await identity.member("xoan")
    changed = await identity.http.patch(
        "/api/v1/members/me", json={"display_name": "Xoán"}, headers=member
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["id"] == member_id and changed.json()["display_name"] == "Xoán"
    refused = await identity.http.patch("/api/v1/members/me", json={"x": 1}, headers=member)
    assert refused.status_code == 422


async def test_refusals_the_routes_answer_are_documented(identity: Identity) -> None:
    spec: dict[str, Any] = (await identity.http.get("/api/v1/openapi.json")).json()
    paths = spec["paths"]
    expected = [
        ("/api/v1/members/me", "get", "404"),
        ("/api/v1/members/me", "patch", "404"),
        ("/api/v1/auth/login", "post", "401"),
        ("/api/v1/auth/login", "post", "429"),
        ("/api/v1/groups", "post", "403"),
        ("/api/v1/maintainers", "post", "404"),
        ("/api/v1/tokens", "post", "404"),
    ]
    for path, method, status in expected:
        response = paths[path][method]["responses"].get(status)
        assert response is not None, (path, method, status)
        schema = response["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/ErrorOut"}, (path, method, status)
