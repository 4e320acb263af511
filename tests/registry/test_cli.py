"""The seed's three steps and a CNML import through ``guificloud`` commands, against a real
registry process."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import typer
from typer.testing import CliRunner

from guificloud.testing.processes import ServiceProcess
from guificloud_cli.registry_cmds import cnml_app, device_app, node_app, zone_app

pytestmark = pytest.mark.integration


@pytest.fixture
def cli(registry_proc: ServiceProcess, operator_login: Path) -> typer.Typer:
    """The registry's commands, with an operator's stored login."""
    app = typer.Typer()
    for sub, name in (
        (zone_app, "zone"),
        (node_app, "node"),
        (device_app, "device"),
        (cnml_app, "cnml"),
    ):
        app.add_typer(sub, name=name)
    return app


def _run(app: typer.Typer, url: str, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(
        app, list(args), env={"GUIFICLOUD_REGISTRY_URL": url, "COLUMNS": "200"}
    )
    assert result.exit_code == code, result.output
    return result.output


def test_three_steps_from_the_command_line(
    cli: typer.Typer, registry_proc: ServiceProcess, registry: httpx.Client
) -> None:
    url = registry_proc.url
    assert "zone created" in _run(cli, url, "zone", "add", "Osona")
    zone_id = registry.get("/api/v1/zones", params={"name": "Osona"}).json()[0]["id"]

    out = _run(
        cli,
        url,
        "node",
        "add",
        "VicBarri",
        "--zone",
        zone_id,
        "--lat",
        "41.9301234",
        "--lon",
        "2.2545678",
        "--status",
        "Working",
        "--elevation",
        "9",
    )
    assert "node created" in out and "41.930123" in out
    node_id = registry.get("/api/v1/nodes", params={"zone_id": zone_id}).json()[0]["id"]

    out = _run(cli, url, "node", "move", node_id, "--lat", "41.95", "--lon", "2.26")
    assert "node moved" in out and "41.950000" in out

    out = _run(
        cli,
        url,
        "device",
        "add",
        node_id,
        "VicBarriBox",
        "--type",
        "cloudy",
        "--arch",
        "amd64",
        "--cores",
        "2",
        "--ram-mb",
        "4096",
        "--disk-gb",
        "120",
    )
    assert "device added" in out and "amd64 2c 4096MB 120GB" in out
    [device] = registry.get(f"/api/v1/nodes/{node_id}/devices").json()
    assert device["hardware"] == {"arch": "amd64", "cores": 2, "ram_mb": 4096, "disk_gb": 120}

    listed = _run(cli, url, "node", "list", "--within", zone_id, "--status", "Working")
    assert "VicBarri" in listed and "nodes (1)" in listed
    assert "VicBarriBox" in _run(cli, url, "device", "list", "--type", "cloudy")
    assert "VicBarriBox" in _run(cli, url, "node", "show", node_id)

    refused = _run(
        cli, url, "node", "add", "x", "--zone", zone_id, "--lat", "91", "--lon", "2", code=1
    )
    assert "latitude" in refused and "less than or equal to 90" in refused
    assert "hardware" in _run(cli, url, "device", "add", node_id, "b", "--type", "confine", code=1)
    assert "no zone with guifi.net id 12345" in _run(
        cli, url, "node", "add", "x", "--zone", "12345", "--lat", "1", "--lon", "2", code=1
    )
    assert "unreachable" in _run(cli, "http://127.0.0.1:9", "zone", "list", code=1)


def test_cnml_import_and_export_from_the_command_line(
    cli: typer.Typer, registry_proc: ServiceProcess, andoain: Path, tmp_path: Path
) -> None:
    url = registry_proc.url
    first = _run(cli, url, "cnml", "import", str(andoain))
    assert "CNML detail import" in first and "interfaces" in first
    assert "events published: 0" not in first
    assert "events published: 0" in _run(cli, url, "cnml", "import", str(andoain))

    lines = andoain.read_text().splitlines(keepends=True)
    lines[5] = lines[5].replace('lat="43.209975"', 'lat="95"')
    broken = tmp_path / "broken.cnml"
    broken.write_text("".join(lines))
    assert "(line 6)" in _run(cli, url, "cnml", "import", str(broken), code=1)

    exported = tmp_path / "andoain.cnml"
    _run(cli, url, "cnml", "export", "54284", "--level", "nodes", "--output", str(exported))
    assert exported.read_text().count("<node ") == 29
    assert "ANDBelkoain" in _run(cli, url, "node", "list", "--within", "54284", "--q", "belko")
    assert "events published: 0" in _run(cli, url, "cnml", "import", str(exported), "--dry-run")
    zone_id = httpx.get(f"{url}/api/v1/zones", params={"external_id": 54284}).json()[0]["id"]
    from_url = _run(cli, url, "cnml", "import", f"{url}/api/v1/zones/{zone_id}/cnml?level=detail")
    assert "\nlinks\t48\t0\t0\t48\n" in from_url and "events published: 0" in from_url
    assert "404" in _run(cli, url, "cnml", "import", f"{url}/api/v1/nothing", code=1)


def test_node_list_by_zone_or_subtree(
    cli: typer.Typer, registry_proc: ServiceProcess, registry: httpx.Client
) -> None:
    url = registry_proc.url
    top = registry.post("/api/v1/zones", json={"name": "Osona", "external_id": 7001}).json()
    sub = registry.post("/api/v1/zones", json={"name": "Vic", "parent_id": top["id"]}).json()
    for name, zone in (("TopNode", top), ("SubNode", sub)):
        registry.post(
            "/api/v1/nodes",
            json={"name": name, "zone_id": zone["id"], "latitude": 41.9, "longitude": 2.2},
        )
    direct = _run(cli, url, "node", "list", "--zone", "7001", "--output", "json")
    assert [n["name"] for n in json.loads(direct)] == ["TopNode"]
    subtree = _run(cli, url, "node", "list", "--within", top["id"], "--output", "json")
    assert sorted(n["name"] for n in json.loads(subtree)) == ["SubNode", "TopNode"]
    helped = _run(cli, url, "node", "list", "--help")
    assert "directly in this zone" in helped and "any zone under it" in helped


def test_piped_lists_are_rows_of_whole_values(
    cli: typer.Typer, registry_proc: ServiceProcess, registry: httpx.Client
) -> None:
    """Piped (CliRunner's stdout is no terminal), a list prints tab-separated rows, each value
    whole, however narrow the terminal would have been; ``--output`` chooses otherwise."""
    url = registry_proc.url
    zone = registry.post("/api/v1/zones", json={"name": "Zona amb un nom força llarg"}).json()
    names = [f"Node amb un nom molt llarg número {i}" for i in range(3)]
    for name in names:
        registry.post(
            "/api/v1/nodes",
            json={"name": name, "zone_id": zone["id"], "latitude": 41.9, "longitude": 2.2},
        )
    result = CliRunner().invoke(
        cli, ["node", "list", "--within", zone["id"]], env={"GUIFICLOUD_REGISTRY_URL": url}
    )
    assert result.exit_code == 0, result.output
    header, *rows = result.stdout.splitlines()
    assert header.split("\t") == [
        "id",
        "name",
        "status",
        "latitude",
        "longitude",
        "zone",
        "guifi id",
    ]
    nodes = registry.get("/api/v1/nodes", params={"within": zone["id"]}).json()
    assert [row.split("\t")[:2] for row in rows] == [[n["id"], n["name"]] for n in nodes]
    assert [n["name"] for n in nodes] == names
    assert "nodes (3)" in result.stderr and "nodes (3)" not in result.stdout

    as_json = _run(cli, url, "node", "list", "--within", zone["id"], "--output", "json")
    assert json.loads(as_json) == nodes
    as_table = _run(cli, url, "zone", "list", "--output", "table")
    assert "┃ id" in as_table and zone["id"] in as_table
    assert "tsv" in _run(cli, url, "zone", "list", "--output", "xml", code=2)
