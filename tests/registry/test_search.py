"""Listing at network scale: filters (zone subtree, status, device type, bounding box, text)
and keyset pages with a ``next`` link, checked against what the real export holds."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import httpx
import pytest

from tests.registry.conftest import post_cnml
from tests.registry.counts import elements
from tests.registry.network_dump import everything, zone_by_guifi_id

pytestmark = pytest.mark.integration


def _node_ids(client: httpx.Client, **params: object) -> set[int]:
    return {n["external_id"] for n in everything(client, "/api/v1/nodes", limit=1000, **params)}


def _field(response: httpx.Response, field: str) -> str:
    assert response.status_code == 422, response.text
    named = [e for e in response.json()["detail"] if e["loc"][:2] == ["query", field]]
    assert named, response.json()
    return str(named[0]["msg"])


def test_filters_and_pages(registry: httpx.Client, world: Path, andoain: Path) -> None:
    assert post_cnml(registry, world.read_bytes()).status_code == 200
    assert post_cnml(registry, andoain.read_bytes()).status_code == 200
    nodes = elements(andoain, "node")
    every = {int(n.get("id")) for n in nodes}
    world_id = zone_by_guifi_id(registry, 3671)["id"]
    catalonia = zone_by_guifi_id(registry, 2413)["id"]  # not an ancestor of Andoain

    assert _node_ids(registry, within=world_id) == every
    assert _node_ids(registry, within=catalonia) == set()
    assert _node_ids(registry, status="Working") == {
        int(n.get("id")) for n in nodes if n.get("status") == "Working"
    }
    assert _node_ids(registry, status=["Reserved", "Planned"]) == {
        int(n.get("id")) for n in nodes if n.get("status") in {"Reserved", "Planned"}
    }
    with_server = {
        int(n.get("id")) for n in nodes if any(d.get("type") == "server" for d in n.iter("device"))
    }
    assert with_server and _node_ids(registry, device_type="server") == with_server
    box = (-2.035, 43.21, -2.02, 43.225)
    inside = {
        int(n.get("id"))
        for n in nodes
        if box[0] <= float(n.get("lon")) <= box[2] and box[1] <= float(n.get("lat")) <= box[3]
    }
    assert 0 < len(inside) < len(nodes)
    assert _node_ids(registry, bbox=",".join(map(str, box))) == inside
    assert _node_ids(registry, q="belko") == {
        int(n.get("id")) for n in nodes if "belko" in n.get("title").lower()
    }
    assert _node_ids(registry, q="belko", status="Working", within=world_id, bbox="-3,43,-2,44")

    # Keyset pages: every node once, in (created, id) order, whatever the page size.
    seen: list[dict[str, object]] = []
    response = registry.get("/api/v1/nodes", params={"within": world_id, "limit": 4})
    pages = 0
    while True:
        assert response.status_code == 200
        seen += response.json()
        pages += 1
        link = response.links.get("next", {}).get("url")
        if link is None:
            assert "X-Next-Cursor" not in response.headers
            break
        assert "within=" in link and "limit=4" in link
        response = registry.get(link)
    assert pages == -(-len(nodes) // 4)
    assert [n["external_id"] for n in seen] == [
        n["external_id"] for n in everything(registry, "/api/v1/nodes", limit=1000)
    ]
    assert len({n["id"] for n in seen}) == len(nodes)
    assert [(n["created_at"], n["id"]) for n in seen] == sorted(
        (n["created_at"], n["id"]) for n in seen
    )

    geo = registry.get("/api/v1/nodes.geojson", params={"q": "belko"})
    assert geo.headers["content-type"].startswith("application/geo+json")
    features = geo.json()["features"]
    assert {f["properties"]["external_id"] for f in features} == _node_ids(registry, q="belko")
    belko = next(f for f in features if f["properties"]["external_id"] == 54396)
    assert belko["geometry"] == {"type": "Point", "coordinates": [-2.042599, 43.226271]}

    devices = everything(registry, "/api/v1/devices", within=world_id, type="server")
    assert len(devices) == sum(1 for d in elements(andoain, "device") if d.get("type") == "server")
    dns = everything(registry, "/api/v1/services", within=world_id, type="dns")
    assert [s["name"] for s in dns] == ["AUdaDZ"], "types match in any case"
    zones = everything(registry, "/api/v1/zones", q="andoain")
    assert [z["external_id"] for z in zones] == [54284]


def test_bad_filters_are_named(registry: httpx.Client) -> None:
    assert "min_lon" in _field(registry.get("/api/v1/nodes", params={"bbox": "1,2,3"}), "bbox")
    _field(registry.get("/api/v1/nodes", params={"bbox": "3,2,1,4"}), "bbox")
    _field(registry.get("/api/v1/nodes", params={"cursor": "bm90IG91cnM"}), "cursor")
    _field(registry.get("/api/v1/nodes", params={"status": "Broken"}), "status")
    _field(registry.get("/api/v1/nodes", params={"limit": 0}), "limit")
    unknown = "00000000-0000-4000-8000-000000000000"
    assert "unknown zone" in _field(
        registry.get("/api/v1/nodes", params={"within": unknown}), "within"
    )


def test_geojson_pages_name_their_next_cursor_like_json_lists(
    registry: httpx.Client, andoain: Path
) -> None:
    assert post_cnml(registry, andoain.read_bytes()).status_code == 200
    seen: list[int] = []
    params: dict[str, object] = {"limit": 4}
    while True:
        geo = registry.get("/api/v1/nodes.geojson", params=params)
        plain = registry.get("/api/v1/nodes", params=params)
        assert geo.status_code == plain.status_code == 200
        seen += [f["properties"]["external_id"] for f in geo.json()["features"]]
        cursor = geo.headers.get("X-Next-Cursor")
        assert cursor == plain.headers.get("X-Next-Cursor")
        link = geo.links.get("next", {}).get("url")
        if cursor is None:
            assert link is None
            break
        assert link is not None and f"cursor={cursor}" in link
        params = {"limit": 4, "cursor": cursor}
    assert seen == [n["external_id"] for n in everything(registry, "/api/v1/nodes", limit=1000)]
    assert len(seen) == len(elements(andoain, "node"))


def _plain(text: str) -> str:
    """Lower case without accents, as a reader would type it."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def test_text_search_ignores_accents_and_case(registry: httpx.Client, world: Path) -> None:
    assert post_cnml(registry, world.read_bytes()).status_code == 200
    titles = {int(z.get("id")): z.get("title") for z in elements(world, "zone")}
    # "Málaga provincia", "Vélez-Málaga", "Lleida", "Almogía"
    for typed, known in (
        ("Malaga", 21629),
        ("MÁLAGA", 37553),
        ("lleida", 14671),
        ("almogia", 37549),
    ):
        found = {z["external_id"] for z in everything(registry, "/api/v1/zones", q=typed)}
        expected = {i for i, title in titles.items() if _plain(typed) in _plain(title)}
        assert known in found and found == expected, typed
    assert "Vélez-Málaga" in titles.values()

    zone = zone_by_guifi_id(registry, 21629)["id"]
    node = registry.post(
        "/api/v1/nodes",
        json={
            "name": "Cañada Núñez",
            "nick": "Çà",
            "zone_id": zone,
            "latitude": 36.7,
            "longitude": -4.4,
        },
    ).json()
    device = registry.post(
        f"/api/v1/nodes/{node['id']}/devices", json={"name": "Pòrtic", "type": "server"}
    ).json()
    service = registry.post(
        f"/api/v1/devices/{device['id']}/services", json={"type": "DNS", "name": "Ràdio Estèl"}
    ).json()
    for path, typed, wanted in (
        ("/api/v1/nodes", "canada nunez", node["id"]),
        ("/api/v1/nodes", "CA", node["id"]),
        ("/api/v1/devices", "portic", device["id"]),
        ("/api/v1/services", "radio estel", service["id"]),
    ):
        assert [r["id"] for r in everything(registry, path, q=typed)] == [wanted], (path, typed)
    assert everything(registry, "/api/v1/nodes", q="cañada_") == []
