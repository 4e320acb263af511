"""Who may do what in the registry, row by row of the README's matrix: the callers a row
allows succeed; anonymous (401), another group's member (403), a member without the role
(403), a maintainer of another subtree (403), a token without the registry.write scope
(403), an expired token (401) and a revoked session (401) are refused, and what a 403 says
names what is missing. Each call works on a record made for it."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from uuid import uuid4

import httpx
import pytest

from tests.registry.community import FRESH, Community, cloud_box, cnml

pytestmark = pytest.mark.integration

Call = Callable[[Community, str], httpx.Response]


def _zone_create(c: Community, who: str) -> httpx.Response:
    body = {"name": "Vic", "parent_id": c.zones["a1"]["id"]}
    return c.call(who, "POST", "/api/v1/zones", json=body)


def _zone_update(c: Community, who: str) -> httpx.Response:
    return c.call(who, "PATCH", f"/api/v1/zones/{c.zone('a1')['id']}", json={"nick": "vic"})


def _zone_delete(c: Community, who: str) -> httpx.Response:
    return c.call(who, "DELETE", f"/api/v1/zones/{c.zone('a1')['id']}")


def _node_create(c: Community, who: str) -> httpx.Response:
    body = {
        "name": "Vic",
        "zone_id": c.zones["a1"]["id"],
        "latitude": 41.9,
        "longitude": 2.2,
        "owner_group_id": str(c.groups["G"]),
    }
    return c.call(who, "POST", "/api/v1/nodes", json=body)


def _node_update(c: Community, who: str) -> httpx.Response:
    return c.call(who, "PATCH", f"/api/v1/nodes/{c.node()['id']}", json={"description": "x"})


def _node_location(c: Community, who: str) -> httpx.Response:
    body = {"latitude": 41.95, "longitude": 2.26}
    return c.call(who, "PUT", f"/api/v1/nodes/{c.node()['id']}/location", json=body)


def _node_owner(c: Community, who: str) -> httpx.Response:
    body = {"owner_account_id": None, "owner_group_id": str(c.groups["G"])}
    return c.call(who, "PUT", f"/api/v1/nodes/{c.node()['id']}/owner", json=body)


def _node_delete(c: Community, who: str) -> httpx.Response:
    return c.call(who, "DELETE", f"/api/v1/nodes/{c.node()['id']}")


def _device_add(c: Community, who: str) -> httpx.Response:
    body = {"name": "router", "type": "radio"}
    return c.call(who, "POST", f"/api/v1/nodes/{c.node()['id']}/devices", json=body)


def _cloud_box_add(c: Community, who: str) -> httpx.Response:
    return c.call(who, "POST", f"/api/v1/nodes/{c.node()['id']}/devices", json=cloud_box())


def _device_update(c: Community, who: str) -> httpx.Response:
    device = c.device(c.node())
    return c.call(who, "PATCH", f"/api/v1/devices/{device['id']}", json={"firmware": "x"})


def _device_remove(c: Community, who: str) -> httpx.Response:
    return c.call(who, "DELETE", f"/api/v1/devices/{c.device(c.node())['id']}")


def _service_add(c: Community, who: str) -> httpx.Response:
    device = c.device(c.node())
    body = {"type": "DNS", "name": "dns"}
    return c.call(who, "POST", f"/api/v1/devices/{device['id']}/services", json=body)


def _service_update(c: Community, who: str) -> httpx.Response:
    service = c.service(c.device(c.node()))
    return c.call(who, "PATCH", f"/api/v1/services/{service['id']}", json={"port": 53})


def _service_remove(c: Community, who: str) -> httpx.Response:
    service = c.service(c.device(c.node()))
    return c.call(who, "DELETE", f"/api/v1/services/{service['id']}")


def _cnml_import(c: Community, who: str) -> httpx.Response:
    body = cnml(next(FRESH), c.zones["a"]["external_id"], nodes=(next(FRESH),))
    headers = {**c.headers(who), "Content-Type": "application/xml"}
    return c.http.post("/api/v1/cnml", content=body, headers=headers)


@dataclass(frozen=True)
class Row:
    call: Call
    allowed: tuple[str, ...]
    ok: int
    says: str
    """What a 403 names (the role or right that is missing)."""


NODE_MANAGERS = ("ana", "gadmin", "mia", "operator")
NODE_RIGHT = "group_admin or node_admin"
ZONE_RIGHT = "maintaining zone"
ROWS = {
    "zone-create": Row(_zone_create, ("mia", "operator"), 201, ZONE_RIGHT),
    "zone-update": Row(_zone_update, ("mia", "operator"), 200, ZONE_RIGHT),
    "zone-delete": Row(_zone_delete, ("mia", "operator"), 204, ZONE_RIGHT),
    "node-create": Row(_node_create, ("ana", "gadmin", "operator"), 201, NODE_RIGHT),
    "node-update": Row(_node_update, NODE_MANAGERS, 200, NODE_RIGHT),
    "node-location": Row(_node_location, NODE_MANAGERS, 200, NODE_RIGHT),
    "node-owner": Row(_node_owner, NODE_MANAGERS, 200, NODE_RIGHT),
    "node-delete": Row(_node_delete, NODE_MANAGERS, 204, NODE_RIGHT),
    "device-add": Row(_device_add, NODE_MANAGERS, 201, NODE_RIGHT),
    "cloud-box-add": Row(_cloud_box_add, NODE_MANAGERS, 201, NODE_RIGHT),
    "device-update": Row(_device_update, NODE_MANAGERS, 200, NODE_RIGHT),
    "device-remove": Row(_device_remove, NODE_MANAGERS, 204, NODE_RIGHT),
    "service-add": Row(_service_add, NODE_MANAGERS, 201, NODE_RIGHT),
    "service-update": Row(_service_update, NODE_MANAGERS, 200, NODE_RIGHT),
    "service-remove": Row(_service_remove, NODE_MANAGERS, 204, NODE_RIGHT),
    "cnml-import": Row(_cnml_import, ("mia", "operator"), 200, "outside the zones"),
}
REFUSED = {
    "anonymous": (401, "authentication required"),
    "oto": (403, ""),  # another group's member
    "sam": (403, ""),  # a member without the role
    "bea": (403, ""),  # a maintainer of another subtree
    "reader": (403, "lacks the scope registry.write"),
    "expired": (401, "expired"),
    "revoked": (401, "revoked"),
}


@pytest.mark.parametrize(
    ("row", "who"),
    [(name, who) for name, row in ROWS.items() for who in row.allowed],
)
def test_allowed(community: Community, row: str, who: str) -> None:
    response = ROWS[row].call(community, who)
    assert response.status_code == ROWS[row].ok, response.text


@pytest.mark.parametrize("who", REFUSED)
@pytest.mark.parametrize("row", ROWS)
def test_refused(community: Community, row: str, who: str) -> None:
    status, says = REFUSED[who]
    response = ROWS[row].call(community, who)
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    assert (says or ROWS[row].says) in detail
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_every_mutating_route_wants_credentials(community: Community) -> None:
    """Walks the OpenAPI document: no change of any kind without credentials (401, with the
    challenge, before any other check of the request), and every such route documents the
    bearer scheme."""
    spec = community.call("anonymous", "GET", "/api/v1/openapi.json").json()
    walked = []
    for path, operations in spec["paths"].items():
        for method in ("post", "put", "patch", "delete"):
            if method not in operations:
                continue
            assert {"bearer": []} in operations[method].get("security", []), (method, path)
            url = re.sub(r"\{[^}]+_id\}", str(uuid4()), path).replace("{seq}", "1")
            bad_key = {"Idempotency-Key": "k" * 256}
            response = community.call("anonymous", method.upper(), url, json={}, headers=bad_key)
            assert response.status_code == 401, (method, path, response.text)
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
            walked.append(f"{method} {path}")
    assert len(walked) >= 15, walked
