"""Everything the registry holds under a zone, read through the API, for comparisons.

Radios, interfaces and links are known by their guifi.net ids (a radio by its device and
number), not by the uuids each registry gives them."""

from __future__ import annotations

from typing import Any

import httpx

DATES = ("created_at", "updated_at")


def everything(client: httpx.Client, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every page of a list, following the ``next`` links."""
    items: list[dict[str, Any]] = []
    response = client.get(path, params=params)
    while True:
        assert response.status_code == 200, response.text
        items += response.json()
        link = response.links.get("next", {}).get("url")
        if not link:
            return items
        response = client.get(link)


def zone_by_guifi_id(client: httpx.Client, external_id: int) -> dict[str, Any]:
    found = client.get("/api/v1/zones", params={"external_id": external_id}).json()
    assert len(found) == 1, found
    return dict(found[0])


def _plain(record: dict[str, Any]) -> dict[str, Any]:
    """Without the change counter, and with times to the minute (what CNML keeps)."""
    out = {k: v for k, v in record.items() if k != "version"}
    for key in DATES:
        if out.get(key):
            out[key] = out[key][:16]
    return out


def dump(client: httpx.Client, zone_id: str) -> dict[str, Any]:
    zones = everything(client, "/api/v1/zones", within=zone_id)
    nodes = everything(client, "/api/v1/nodes", within=zone_id, limit=1000)
    devices = everything(client, "/api/v1/devices", within=zone_id, limit=1000)
    services = everything(client, "/api/v1/services", within=zone_id, limit=1000)
    radios, interfaces, links = {}, {}, {}
    for device in devices:
        radios[device["id"]] = [
            {k: v for k, v in r.items() if k != "id"}
            for r in client.get(f"/api/v1/devices/{device['id']}/radios").json()
        ]
        interfaces[device["id"]] = client.get(f"/api/v1/devices/{device['id']}/interfaces").json()
        for link in client.get(f"/api/v1/devices/{device['id']}/links").json():
            link["ends"] = [
                {k: v for k, v in end.items() if k != "interface_id"} for end in link["ends"]
            ]
            links[link["external_id"]] = {k: v for k, v in link.items() if k != "id"}
    return {
        "zones": sorted(map(_plain, zones), key=lambda z: z["id"]),
        "nodes": sorted(map(_plain, nodes), key=lambda n: n["id"]),
        "devices": sorted(map(_plain, devices), key=lambda d: d["id"]),
        "services": sorted(map(_plain, services), key=lambda s: s["id"]),
        "radios": radios,
        "interfaces": {
            d: [{k: v for k, v in i.items() if k not in {"id", "radio_id"}} for i in found]
            for d, found in interfaces.items()
        },
        "links": links,
    }
