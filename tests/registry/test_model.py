"""The network model through the API: the zone tree stays a tree, partial updates with ETags,
the service directory, and every change published with the fields that changed."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.registry.conftest import Stream

pytestmark = pytest.mark.integration


def _created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    return dict(response.json())


def _field(response: httpx.Response, field: str, status: int = 422) -> str:
    assert response.status_code == status, response.text
    named = [e for e in response.json()["detail"] if field in e["loc"]]
    assert named, response.json()
    return str(named[0]["msg"])


async def test_the_zone_tree_stays_a_tree(registry: httpx.Client, stream: Stream) -> None:
    catalunya = _created(registry.post("/api/v1/zones", json={"name": "Catalunya"}))
    osona = _created(
        registry.post("/api/v1/zones", json={"name": "Osona", "parent_id": catalunya["id"]})
    )
    vic = _created(registry.post("/api/v1/zones", json={"name": "Vic", "parent_id": osona["id"]}))
    barri = _created(registry.post("/api/v1/zones", json={"name": "Barri", "parent_id": vic["id"]}))
    node = _created(
        registry.post(
            "/api/v1/nodes",
            json={"name": "n", "zone_id": barri["id"], "latitude": 41.93, "longitude": 2.25},
        )
    )

    def within(zone: dict[str, Any]) -> set[str]:
        return {
            z["name"] for z in registry.get("/api/v1/zones", params={"within": zone["id"]}).json()
        }

    assert within(osona) == {"Osona", "Vic", "Barri"}
    assert "inside its own subtree" in _field(
        registry.patch(f"/api/v1/zones/{osona['id']}", json={"parent_id": barri["id"]}), "parent_id"
    )
    assert "inside its own subtree" in _field(
        registry.patch(f"/api/v1/zones/{osona['id']}", json={"parent_id": osona["id"]}), "parent_id"
    )

    moved = registry.patch(f"/api/v1/zones/{vic['id']}", json={"parent_id": catalunya["id"]})
    assert moved.status_code == 200 and moved.json()["parent_id"] == catalunya["id"]
    event = await stream.last("registry.zone.updated")
    assert event["data"] == {"zone_id": vic["id"], "changes": {"parent_id": catalunya["id"]}}
    assert within(osona) == {"Osona"}
    assert within(vic) == {"Vic", "Barri"}, "the subtree moved with it"
    nodes = registry.get("/api/v1/nodes", params={"within": catalunya["id"]}).json()
    assert [n["id"] for n in nodes] == [node["id"]]
    assert registry.get("/api/v1/nodes", params={"within": osona["id"]}).json() == []

    assert registry.delete(f"/api/v1/zones/{vic['id']}").status_code == 409, "has subzones"
    assert registry.delete(f"/api/v1/zones/{barri['id']}").status_code == 409, "has nodes"
    assert registry.delete(f"/api/v1/zones/{osona['id']}").status_code == 204
    assert registry.get(f"/api/v1/zones/{osona['id']}").status_code == 404
    assert (await stream.last("registry.zone.deleted"))["data"] == {"zone_id": osona["id"]}


async def test_partial_updates_with_etags(registry: httpx.Client, stream: Stream) -> None:
    zone = _created(registry.post("/api/v1/zones", json={"name": "Osona"}))
    created = registry.post(
        "/api/v1/nodes",
        json={"name": "VicNord", "zone_id": zone["id"], "latitude": 41.93, "longitude": 2.25},
    )
    node = _created(created)
    assert created.headers["ETag"] == '"1"'
    url = f"/api/v1/nodes/{node['id']}"
    assert registry.get(url, headers={"If-None-Match": '"1"'}).status_code == 304

    changed = registry.patch(
        url, json={"status": "Working", "elevation": 12}, headers={"If-Match": '"1"'}
    )
    assert changed.status_code == 200 and changed.headers["ETag"] == '"2"'
    assert (changed.json()["status"], changed.json()["elevation"], changed.json()["name"]) == (
        "Working",
        12,
        "VicNord",
    )
    event = await stream.last("registry.node.updated")
    assert event["data"] == {
        "node_id": node["id"],
        "changes": {"status": "Working", "elevation": 12},
    }

    stale = registry.patch(url, json={"name": "VicSud"}, headers={"If-Match": '"1"'})
    assert stale.status_code == 412 and "changed meanwhile" in stale.json()["detail"]
    assert registry.get(url).json()["name"] == "VicNord"
    published = await stream.count()
    assert registry.patch(url, json={"status": "Working"}).json()["version"] == 2
    assert await stream.count() == published, "a change to the same value is no change"

    moved = registry.put(
        f"{url}/location",
        json={"latitude": 41.9312345, "longitude": 2.2512345},
        headers={"If-Match": '"2"'},
    )
    assert moved.status_code == 200 and moved.json()["latitude"] == 41.931235

    assert "cannot be emptied" in _field(registry.patch(url, json={"name": None}), "name")
    assert "unknown zone" in _field(
        registry.patch(url, json={"zone_id": "00000000-0000-4000-8000-000000000000"}), "zone_id"
    )
    _field(registry.patch(url, json={"latitude": -90.5}), "latitude")
    _field(registry.patch(url, json={"elevation": 20000}), "elevation")
    _field(registry.patch(url, json={"colour": "red"}), "colour")

    device = _created(registry.post(f"{url}/devices", json={"name": "r", "type": "radio"}))
    device_url = f"/api/v1/devices/{device['id']}"
    assert "hardware" in _field(registry.patch(device_url, json={"type": "cloudy"}), "hardware")
    _field(registry.patch(device_url, json={"main_ipv4": "10.1.300.2"}), "main_ipv4")
    patched = registry.patch(device_url, json={"main_ipv4": "10.1.3.2", "firmware": "AirOsv5"})
    assert patched.json()["main_ipv4"] == "10.1.3.2"
    event = await stream.last("registry.device.updated")
    assert event["data"]["changes"] == {"main_ipv4": "10.1.3.2", "firmware": "AirOsv5"}  # type: ignore[index]

    assert registry.delete(url).status_code == 409, "a node with devices stays"
    assert registry.delete(device_url).status_code == 204
    assert (await stream.last("registry.device.removed"))["data"]["device_id"] == device["id"]  # type: ignore[index]
    assert registry.delete(url, headers={"If-Match": '"1"'}).status_code == 412
    assert registry.delete(url).status_code == 204


async def test_the_service_directory(registry: httpx.Client, stream: Stream) -> None:
    zone = _created(registry.post("/api/v1/zones", json={"name": "Osona"}))
    node = _created(
        registry.post(
            "/api/v1/nodes",
            json={"name": "VicCloud", "zone_id": zone["id"], "latitude": 41.9, "longitude": 2.2},
        )
    )
    box = _created(
        registry.post(
            f"/api/v1/nodes/{node['id']}/devices",
            json={
                "name": "box",
                "type": "cloudy",
                "main_ipv4": "10.90.1.2",
                "hardware": {"arch": "amd64", "cores": 2, "ram_mb": 4096, "disk_gb": 120},
            },
        )
    )
    added = (await stream.last("registry.device.added"))["data"]
    assert added["type"] == "cloudy" and added["fields"]["main_ipv4"] == "10.90.1.2"  # type: ignore[index]
    services = f"/api/v1/devices/{box['id']}/services"
    introducer = _created(
        registry.post(
            services,
            json={
                "type": "Tahoe-LAFS-Introducer",
                "name": "VicIntroducer",
                "host": "10.90.1.2",
                "port": 3456,
            },
        )
    )
    assert introducer["type"] == "tahoe-lafs-introducer"
    _created(registry.post(services, json={"type": "dns", "name": "VicDNS", "port": 53}))
    event = (await stream.last("registry.service.added"))["data"]
    assert (event["type"], event["fields"]["port"]) == ("DNS", 53)  # type: ignore[index]

    found = registry.get(
        "/api/v1/services", params={"within": zone["id"], "type": "tahoe-lafs-introducer"}
    )
    assert [s["id"] for s in found.json()] == [introducer["id"]]
    assert len(registry.get("/api/v1/services", params={"q": "vic"}).json()) == 2

    assert "unknown service type" in _field(
        registry.post(services, json={"type": "toaster", "name": "t"}), "type"
    )
    _field(registry.post(services, json={"type": "web", "name": "w", "port": 70000}), "port")
    _field(registry.post(services, json={"type": "web", "name": "w", "host": "a b"}), "host")
    _field(registry.post(services, json={"type": "web", "name": ""}), "name")

    moved = registry.patch(
        f"/api/v1/services/{introducer['id']}", json={"port": 3457, "status": "Testing"}
    )
    assert moved.json()["port"] == 3457
    event = (await stream.last("registry.service.updated"))["data"]
    assert event["changes"] == {"port": 3457, "status": "Testing"}  # type: ignore[index]
    assert registry.delete(f"/api/v1/services/{introducer['id']}").status_code == 204
    assert registry.get(f"/api/v1/services/{introducer['id']}").status_code == 404
