"""The registry's API: the seed's three steps, and bad input named by field."""

from __future__ import annotations

from uuid import uuid4

import httpx
import pytest

pytestmark = pytest.mark.integration


def _zone(client: httpx.Client) -> str:
    return str(client.post("/api/v1/zones", json={"name": "Osona"}).json()["id"])


def _field_error(response: httpx.Response, field: str) -> str:
    assert response.status_code == 422, response.text
    errors = response.json()["detail"]
    named = [e for e in errors if e["loc"][-1] == field]
    assert named, f"no error names {field!r}: {errors}"
    return str(named[0]["msg"])


def test_three_steps(registry: httpx.Client) -> None:
    zone = _zone(registry)
    node = registry.post(
        "/api/v1/nodes",
        json={
            "name": "VicBarriOsona",
            "zone_id": zone,
            "latitude": 41.9301234,
            "longitude": 2.2545678,
        },
    )
    assert node.status_code == 201
    node_id = node.json()["id"]
    assert node.json()["latitude"] == 41.930123

    moved = registry.put(
        f"/api/v1/nodes/{node_id}/location", json={"latitude": 41.95, "longitude": 2.26}
    )
    assert moved.status_code == 200 and moved.json()["latitude"] == 41.95

    device = registry.post(
        f"/api/v1/nodes/{node_id}/devices",
        json={
            "name": "box",
            "type": "confine",
            "hardware": {"arch": "amd64", "cores": 2, "ram_mb": 4096, "disk_gb": 120},
        },
    )
    assert device.status_code == 201
    listed = registry.get(f"/api/v1/nodes/{node_id}/devices").json()
    assert [d["id"] for d in listed] == [device.json()["id"]]
    assert registry.get(f"/api/v1/devices/{device.json()['id']}").json()["hardware"]["cores"] == 2


def test_bad_input_names_the_field(registry: httpx.Client) -> None:
    zone = _zone(registry)
    node = {"name": "n", "zone_id": zone, "latitude": 41.9, "longitude": 2.2}
    assert "less than or equal to 90" in _field_error(
        registry.post("/api/v1/nodes", json={**node, "latitude": 91}), "latitude"
    )
    _field_error(registry.post("/api/v1/nodes", json={**node, "longitude": -181}), "longitude")
    assert "unknown zone" in _field_error(
        registry.post("/api/v1/nodes", json={**node, "zone_id": str(uuid4())}), "zone_id"
    )
    node_id = registry.post("/api/v1/nodes", json=node).json()["id"]
    devices = f"/api/v1/nodes/{node_id}/devices"
    assert "unknown device type" in _field_error(
        registry.post(devices, json={"name": "d", "type": "toaster"}), "type"
    )
    assert "hardware" in _field_error(
        registry.post(devices, json={"name": "d", "type": "cloudy"}), "hardware"
    )
    _field_error(
        registry.post(
            devices,
            json={
                "name": "d",
                "type": "cloudy",
                "hardware": {"arch": "sparc", "cores": 2, "ram_mb": 4096, "disk_gb": 10},
            },
        ),
        "arch",
    )
    assert registry.post(devices, json={"name": "d", "type": "radio"}).status_code == 201


def test_unknown_ids_are_404(registry: httpx.Client) -> None:
    missing = uuid4()
    assert registry.get(f"/api/v1/nodes/{missing}").status_code == 404
    assert registry.get(f"/api/v1/zones/{missing}").status_code == 404
    assert registry.get(f"/api/v1/devices/{missing}").status_code == 404
    response = registry.post(
        f"/api/v1/nodes/{missing}/devices", json={"name": "d", "type": "radio"}
    )
    assert response.status_code == 404
    assert "not found" in response.json()["detail"]
    assert registry.get("/api/v1/nodes/not-a-uuid").status_code == 422


def test_correlation_id_is_kept_or_made(registry: httpx.Client) -> None:
    given = registry.get("/healthz", headers={"X-Correlation-Id": "flow-42"})
    assert given.headers["X-Correlation-Id"] == "flow-42"
    assert len(registry.get("/healthz").headers["X-Correlation-Id"]) == 36


def test_health_and_openapi(registry: httpx.Client) -> None:
    assert registry.get("/healthz").json() == {"status": "ok"}
    ready = registry.get("/readyz").json()
    assert ready["checks"] == {"database": True, "migrations": True, "nats": True}
    assert "/api/v1/nodes" in registry.get("/api/v1/openapi.json").json()["paths"]


def test_head_on_every_get_route(registry: httpx.Client) -> None:
    """Every ``GET`` route of the OpenAPI document answers ``HEAD`` with its status and
    headers (paging headers included) and no body."""
    zone = _zone(registry)
    node = registry.post(
        "/api/v1/nodes", json={"name": "n", "zone_id": zone, "latitude": 41.9, "longitude": 2.2}
    ).json()["id"]
    registry.post(
        "/api/v1/nodes", json={"name": "m", "zone_id": zone, "latitude": 42, "longitude": 2}
    )
    device = registry.post(
        f"/api/v1/nodes/{node}/devices", json={"name": "d", "type": "server"}
    ).json()["id"]
    service = registry.post(
        f"/api/v1/devices/{device}/services", json={"type": "DNS", "name": "dns"}
    ).json()["id"]
    ids = {"zone_id": zone, "node_id": node, "device_id": device, "service_id": service}
    paths = registry.get("/api/v1/openapi.json").json()["paths"]
    # The shared dead-letter routes are the operators' (admin token), tested with libs.
    gets = [
        p
        for p, methods in paths.items()
        if "get" in methods and not p.startswith("/api/v1/deadletters")
    ]
    assert len(gets) >= 15
    for path in gets:
        url = path.format(**ids)
        got, head = registry.get(url, params={"limit": 1}), registry.head(url, params={"limit": 1})
        assert got.status_code == head.status_code == 200, (url, got.status_code, head.status_code)
        assert head.content == b""
        for name in ("content-type", "etag", "link", "x-next-cursor"):
            assert head.headers.get(name) == got.headers.get(name), (url, name)
    assert registry.head("/api/v1/nodes", params={"limit": 1}).headers["x-next-cursor"]


def test_names_are_stripped_and_never_blank_through_the_api_and_cnml(
    registry: httpx.Client,
) -> None:
    """One rule for names whichever way they come: stripped; blank after stripping is 422."""
    zone = registry.post("/api/v1/zones", json={"name": "  Osona \t"}).json()
    assert zone["name"] == "Osona"
    node = {"name": " Vic  ", "zone_id": zone["id"], "latitude": 41.9, "longitude": 2.2}
    created = registry.post("/api/v1/nodes", json=node).json()
    assert created["name"] == "Vic"
    renamed = registry.patch(f"/api/v1/nodes/{created['id']}", json={"name": "Vic 2 "})
    assert renamed.json()["name"] == "Vic 2"
    devices = f"/api/v1/nodes/{created['id']}/devices"
    device = registry.post(devices, json={"name": " router ", "type": "radio"}).json()
    assert device["name"] == "router"
    services = f"/api/v1/devices/{device['id']}/services"
    assert registry.post(services, json={"type": "DNS", "name": "dns "}).json()["name"] == "dns"

    for blank in ("", "   ", "\t\n"):
        assert "blank" in _field_error(registry.post("/api/v1/zones", json={"name": blank}), "name")
        assert "blank" in _field_error(
            registry.post("/api/v1/nodes", json={**node, "name": blank}), "name"
        )
        _field_error(registry.patch(f"/api/v1/nodes/{created['id']}", json={"name": blank}), "name")
        _field_error(registry.post(devices, json={"name": blank, "type": "radio"}), "name")
        _field_error(registry.post(services, json={"type": "DNS", "name": blank}), "name")
    _field_error(registry.post("/api/v1/zones", json={"name": "x" * 201}), "name")
    assert registry.post("/api/v1/zones", json={"name": "x" * 200 + "  "}).status_code == 201

    cnml = (
        '<cnml><class network_description="zones"/><network>'
        '<zone id="990001" title="  Lleida  " created="20160101 1000"/>'
        "</network></cnml>"
    )
    headers = {"Content-Type": "application/xml"}
    assert registry.post("/api/v1/cnml", content=cnml.encode(), headers=headers).status_code == 200
    imported = registry.get("/api/v1/zones", params={"external_id": 990001}).json()
    assert [z["name"] for z in imported] == ["Lleida"]
    blank = cnml.replace("990001", "990002").replace("  Lleida  ", "   ")
    refused = registry.post("/api/v1/cnml", content=blank.encode(), headers=headers)
    assert refused.status_code == 422 and "no title" in refused.json()["detail"][0]["msg"]
