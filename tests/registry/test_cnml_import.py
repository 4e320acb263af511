"""Importing the real CNML exports of guifi.net: exact counts, idempotence, one transaction,
round trip through the exporter, and a newer export updating only what changed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from guificloud.testing.authority import ADMIN_TOKEN, bearer
from guificloud.testing.plugin import fresh_database
from guificloud.testing.servers import Servers
from tests.registry.cnml_compare import differences
from tests.registry.conftest import CNML_MAX_BYTES, Stream, post_cnml, registry_process
from tests.registry.counts import elements, expected_counts
from tests.registry.network_dump import dump, everything, zone_by_guifi_id

pytestmark = pytest.mark.integration

KINDS = ("zones", "nodes", "devices", "radios", "interfaces", "links", "services")


def _imported(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    return dict(response.json())


def _held(client: httpx.Client, zone_id: str) -> dict[str, int]:
    """What the registry holds under the zone, counted through the API."""
    held = dump(client, zone_id)
    return {
        "zones": len(held["zones"]),
        "nodes": len(held["nodes"]),
        "devices": len(held["devices"]),
        "radios": sum(len(r) for r in held["radios"].values()),
        "interfaces": sum(len(i) for i in held["interfaces"].values()),
        "links": len(held["links"]),
        "services": len(held["services"]),
    }


async def test_detail_export_imported_with_exact_counts_then_again_changing_nothing(
    registry: httpx.Client, stream: Stream, andoain: Path
) -> None:
    expected = expected_counts(andoain)
    assert expected["links"] < len(elements(andoain, "link")), "links are listed at both ends"

    first = _imported(post_cnml(registry, andoain.read_bytes()))
    assert {k: first["records"][k]["created"] for k in KINDS} == expected
    zone = zone_by_guifi_id(registry, 54284)
    assert _held(registry, zone["id"]) == expected
    published = await stream.count()
    assert published == first["events"] > 0
    summary = await stream.last("registry.cnml.imported")
    assert summary["data"]["created"] == expected  # type: ignore[index]

    again = _imported(post_cnml(registry, andoain.read_bytes()))
    assert again["events"] == 0
    assert all(
        again["records"][k]
        == {"in_file": expected[k], "created": 0, "updated": 0, "unchanged": expected[k]}
        for k in KINDS
    )
    assert await stream.count() == published, "a second import publishes nothing"

    node = registry.get("/api/v1/nodes", params={"external_id": 54396}).json()[0]
    assert (node["name"], node["status"], node["elevation"]) == ("ANDBelkoain", "Working", 10)
    assert (node["latitude"], node["longitude"]) == (43.226271, -2.042599)
    server = registry.get("/api/v1/devices", params={"external_id": 48349}).json()[0]
    services = registry.get("/api/v1/services", params={"device_id": server["id"]}).json()
    assert sorted(s["type"] for s in services) == ["DNS", "NTP", "Proxy", "SNPgraphs", "iperf"]
    interfaces = registry.get(f"/api/v1/devices/{server['id']}/interfaces").json()
    assert [(i["external_id"], i["type"]) for i in interfaces] == [(82450, "Lan")]


async def test_world_zone_tree_then_a_zone_in_detail(
    registry: httpx.Client, stream: Stream, world: Path, andoain: Path
) -> None:
    tree = _imported(post_cnml(registry, world.read_bytes()))
    zones_in_file = elements(world, "zone")
    assert tree["records"]["zones"]["created"] == len(zones_in_file) == 2342
    root = zone_by_guifi_id(registry, 3671)
    held = everything(registry, "/api/v1/zones", within=root["id"])
    assert len(held) == len(zones_in_file)
    guifi_id = {z["id"]: z["external_id"] for z in held}
    assert {(guifi_id[z["id"]], guifi_id.get(z["parent_id"])) for z in held} == {
        (int(z.get("id")), int(z.get("parent_id")) if z.get("parent_id") else None)
        for z in zones_in_file
    }
    published = await stream.count()
    assert _imported(post_cnml(registry, world.read_bytes()))["events"] == 0
    assert await stream.count() == published

    detail = _imported(post_cnml(registry, andoain.read_bytes()))
    assert detail["records"]["zones"] == {"in_file": 1, "created": 0, "updated": 0, "unchanged": 1}
    andoain_zone = zone_by_guifi_id(registry, 54284)
    assert andoain_zone["parent_id"] == zone_by_guifi_id(registry, 44278)["id"]
    nodes = everything(registry, "/api/v1/nodes", within=root["id"], limit=1000)
    assert len(nodes) == len(elements(andoain, "node"))


async def test_a_malformed_file_is_refused_whole(
    registry: httpx.Client, stream: Stream, andoain: Path
) -> None:
    _imported(post_cnml(registry, andoain.read_bytes()))
    zone = zone_by_guifi_id(registry, 54284)
    before, published = _held(registry, zone["id"]), await stream.count()

    lines = andoain.read_text().splitlines(keepends=True)
    lines[299] = lines[299].replace("<link ", "<link <")
    broken = registry.post("/api/v1/cnml", content="".join(lines).encode())
    assert broken.status_code == 422
    assert broken.json()["detail"][0]["line"] == 300
    assert "not well-formed" in broken.json()["detail"][0]["msg"]

    # Refused while writing: a new zone is written first, then a node claims a guifi.net id
    # that another node holds. Nothing of it stays.
    nodes = {n["external_id"]: n for n in everything(registry, "/api/v1/nodes", limit=1000)}
    late = (
        '<cnml><class network_description="nodes"/><network>'
        '<zone id="999999" title="New zone" created="20160101 1000">\n'
        f'<node uuid="{nodes[54396]["id"]}" id="54397" title="x" lat="43.2" lon="-2.0" '
        'status="Working"/>\n</zone></network></cnml>'
    )
    refused = post_cnml(registry, late.encode())
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"][0]["line"] == 2
    assert "54397" in refused.json()["detail"][0]["msg"]
    assert registry.get("/api/v1/zones", params={"external_id": 999999}).json() == []

    too_big = post_cnml(registry, b" " * (CNML_MAX_BYTES + 1))
    assert too_big.status_code == 413
    assert _held(registry, zone["id"]) == before
    assert await stream.count() == published


async def test_export_reads_back_to_the_same_records(
    registry: httpx.Client,
    andoain: Path,
    servers: Servers,
    nats_url: str,
    tmp_path: Path,
) -> None:
    _imported(post_cnml(registry, andoain.read_bytes()))
    zone = zone_by_guifi_id(registry, 54284)
    # Records of our own, with what guifi.net does not have: nick, owner, hardware, host, port.
    sub = registry.post(
        "/api/v1/zones",
        json={
            "name": "Andoain cloud",
            "parent_id": zone["id"],
            "nick": "ANDcloud",
            "box": {"min_lon": -2.03, "min_lat": 43.21, "max_lon": -2.01, "max_lat": 43.22},
            "dns_servers": ["10.69.12.18", "10.69.12.19"],
            "description": "Cloud nodes & <b>boxes</b>\r\nof Andoain",
        },
    ).json()
    node = registry.post(
        "/api/v1/nodes",
        json={
            "name": "ANDCloud1",
            "zone_id": sub["id"],
            "latitude": 43.2151234,
            "longitude": -2.0212345,
            "status": "Working",
            "owner": "andoain-cloud",
            "elevation": 8,
        },
    ).json()
    box = registry.post(
        f"/api/v1/nodes/{node['id']}/devices",
        json={
            "name": "ANDCloud1Box",
            "type": "cloudy",
            "main_ipv4": "10.69.12.40",
            "hardware": {"arch": "amd64", "cores": 4, "ram_mb": 8192, "disk_gb": 500},
        },
    ).json()
    registry.post(
        f"/api/v1/devices/{box['id']}/services",
        json={
            "type": "tahoe-lafs-introducer",
            "name": "ANDintroducer",
            "port": 3456,
            "host": "10.69.12.40",
            "description": "pb://introducer",
        },
    )
    original = dump(registry, zone["id"])
    assert (len(original["zones"]), len(original["nodes"]), len(original["services"])) == (2, 30, 6)
    assert [d["hardware"]["cores"] for d in original["devices"] if d["hardware"]] == [4]

    exported = registry.get(f"/api/v1/zones/{zone['id']}/cnml", params={"level": "detail"})
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("application/xml")
    again = _imported(post_cnml(registry, exported.content))
    assert again["events"] == 0, again
    assert dump(registry, zone["id"]) == original

    (tmp_path / "other").mkdir()
    async with fresh_database(servers) as other_db:
        with (
            registry_process(other_db, nats_url, tmp_path / "other") as other,
            httpx.Client(base_url=other.url, timeout=60, headers=bearer(ADMIN_TOKEN)) as client,
        ):
            for level in ("zones", "nodes", "detail"):
                body = registry.get(
                    f"/api/v1/zones/{zone['id']}/cnml", params={"level": level}
                ).content
                _imported(post_cnml(client, body))
            copied = dump(client, zone["id"])
    assert copied == original


def test_an_export_gives_back_every_value_the_importer_read(
    registry: httpx.Client, cnml_dir: Path
) -> None:
    """Each real export, imported then exported (its top zone, at its level): whatever the
    importer read from the file, it reads the same from the export."""
    files = sorted(p for p in cnml_dir.iterdir() if p.suffix in {".cnml", ".xml"})
    assert len(files) >= 2
    for path in files:
        original = path.read_bytes()
        _imported(post_cnml(registry, original))
        root = elements(path, "zone")[0]
        level = elements(path, "class")[0].get("network_description")
        zone = zone_by_guifi_id(registry, int(root.get("id")))
        exported = registry.get(f"/api/v1/zones/{zone['id']}/cnml", params={"level": level})
        assert exported.status_code == 200
        assert differences(original, exported.content) == [], path.name


def test_snmp_indexes_and_a_zone_without_updated_come_back(registry: httpx.Client) -> None:
    """What the real exports lack: ``snmp_index`` (guifi.net writes a device's MRTG index
    and some radios' ``snmp_index``), dates changed or not after creation."""
    original = b"""<?xml version="1.0"?>
<cnml version="0.1"><class network_description="detail" mapping="y"/><network>
<zone id="21630" parent_id="21629" title="Malaga city" created="20110401 0544">
<node id="9001" title="N" lat="36.7" lon="-4.4" status="Working" created="20110401 0544"
 updated="20110401 0544">
<device id="9002" title="D" type="radio" status="Working" snmp_index="3"
 created="20110401 0544" updated="20120101 1230">
<radio id="0" device_id="9002" ssid="s" mode="ap" snmp_index="6"/>
<radio id="1" device_id="9002" ssid="t" mode="client" snmp_name="wlan1"/>
</device></node></zone></network></cnml>
"""
    _imported(post_cnml(registry, original))
    zone = zone_by_guifi_id(registry, 21630)
    exported = registry.get(f"/api/v1/zones/{zone['id']}/cnml").content
    assert differences(original, exported) == []
    assert b'parent_id="21629"' in exported and exported.count(b"updated=") == 1
    device = registry.get("/api/v1/devices", params={"external_id": 9002}).json()[0]
    assert device["snmp_index"] == "3"
    radios = registry.get(f"/api/v1/devices/{device['id']}/radios").json()
    assert [r["snmp_index"] for r in radios] == ["6", None]


async def test_a_newer_export_updates_only_what_changed(
    registry: httpx.Client, stream: Stream, andoain: Path
) -> None:
    _imported(post_cnml(registry, andoain.read_bytes()))
    newer = andoain.read_text().replace(
        'title="ANDBelkoain" lat="43.226271" lon="-2.042599" antenna_elevation="10" '
        'status="Working" created="20121210 1012" updated="20130513 1015"',
        'title="ANDBelkoain Berria" lat="43.226271" lon="-2.042599" antenna_elevation="10" '
        'status="Inactive" created="20121210 1012" updated="20160301 0915"',
    )
    assert newer != andoain.read_text()
    result = _imported(post_cnml(registry, newer.encode()))
    assert result["records"]["nodes"] == {
        "in_file": 29,
        "created": 0,
        "updated": 1,
        "unchanged": 28,
    }
    assert all(result["records"][k]["updated"] == 0 for k in KINDS if k != "nodes")
    event = await stream.last("registry.node.imported")
    [change] = event["data"]["changes"]  # type: ignore[index]
    assert change["external_id"] == 54396 and change["verb"] == "updated"
    assert change["changes"] == {
        "name": "ANDBelkoain Berria",
        "status": "Inactive",
        "updated_at": "2016-03-01T09:15:00Z",
    }
    node = registry.get("/api/v1/nodes", params={"external_id": 54396}).json()[0]
    assert (node["name"], node["status"], node["version"]) == ("ANDBelkoain Berria", "Inactive", 2)
