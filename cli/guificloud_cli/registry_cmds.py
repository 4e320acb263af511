"""``guificloud zone|node|device|cnml …``: the registry's API as commands.

The seed's three steps: ``node add`` (the node's information and location), ``node move``
(correct the location) and ``device add`` (a cloud device starts onboarding). Zones and
nodes may be named by our id or by their guifi.net id. Every command talks to a running
registry over HTTP (``--registry-url``, or ``GUIFICLOUD_REGISTRY_URL``).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import typer
from rich.console import Console

from guificloud.credentials import LoginRequired, client_auth
from guificloud.retries import RetryingTransport
from guificloud.settings import DEFAULT_PORTS
from guificloud.tls import env_ca, verify
from guificloud_cli.output import Output, OutputOption, show

DEFAULT_URL = f"http://127.0.0.1:{DEFAULT_PORTS['registry']}"
UUID_RE = re.compile(r"^[0-9a-fA-F-]{36}$")

zone_app = typer.Typer(no_args_is_help=True, help="Zones of the network (a tree).")
node_app = typer.Typer(no_args_is_help=True, help="Nodes: locations where devices are.")
device_app = typer.Typer(no_args_is_help=True, help="Devices on nodes; cloud boxes among them.")
cnml_app = typer.Typer(no_args_is_help=True, help="Import and export guifi.net's CNML.")

RegistryUrl = typer.Option(
    DEFAULT_URL, "--registry-url", envvar="GUIFICLOUD_REGISTRY_URL", help="The registry's URL."
)
Limit = typer.Option(50, "--limit", min=1, max=1000, help="Rows per page.")
AllPages = typer.Option(False, "--all", help="Follow the next links to the last page.")

err = Console(stderr=True)


class Failed(Exception):
    """A refusal or an unreachable registry: printed, exit status 1."""


@contextmanager
def registry(url: str, timeout: float = 30.0) -> Iterator[httpx.Client]:
    """A client with the stored login (reads work without one), whose POSTs carry an
    ``Idempotency-Key`` and are retried when the registry is briefly unreachable
    (:mod:`guificloud.retries`)."""
    transport = RetryingTransport(verify=verify(env_ca()))
    try:
        auth = client_auth()
    except LoginRequired as exc:
        raise Failed(str(exc)) from exc
    with httpx.Client(
        base_url=url.rstrip("/"), timeout=timeout, transport=transport, auth=auth
    ) as client:
        try:
            yield client
        except httpx.HTTPError as exc:
            raise Failed(f"registry unreachable at {url}: {exc}") from exc
        except LoginRequired as exc:
            raise Failed(str(exc)) from exc


def run(body: Any) -> Any:
    """Run a command body, turning failures into a message and exit status 1."""
    try:
        return body()
    except (Failed, LoginRequired) as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from exc


def checked(response: httpx.Response, *ok: int) -> Any:
    """The response's JSON, or :class:`Failed` with the registry's reasons, field by field."""
    if response.status_code in (ok or (200,)):
        return response.json() if response.content else None
    try:
        detail = response.json().get("detail")
    except ValueError:
        detail = response.text[:500]
    raise Failed(f"{response.status_code}: {_reasons(detail)}")


def _reasons(detail: Any) -> str:
    if isinstance(detail, list):
        parts = []
        for item in detail:
            where = ".".join(str(p) for p in item.get("loc", [])[1:]) or "body"
            line = f" (line {item['line']})" if item.get("line") else ""
            parts.append(f"{where}{line}: {item.get('msg')}")
        return "; ".join(parts)
    return str(detail)


def _pages(client: httpx.Client, path: str, params: dict[str, Any], every: bool) -> Iterator[Any]:
    response = client.get(path, params={k: v for k, v in params.items() if v not in (None, [])})
    while True:
        yield from checked(response)
        link = response.links.get("next", {}).get("url")
        if not every or not link:
            if link:
                err.print("[dim]more rows: --all to list them all[/dim]")
            return
        response = client.get(link)


def _resolve(client: httpx.Client, kind: str, ref: str) -> str:
    """Our id as given, or the record whose guifi.net id is ``ref``."""
    if UUID_RE.match(ref):
        return ref
    if not ref.isdigit():
        raise Failed(f"{kind} {ref!r} is neither an id nor a guifi.net id")
    found = checked(client.get(f"/api/v1/{kind}s", params={"external_id": ref}))
    if not found:
        raise Failed(f"no {kind} with guifi.net id {ref}")
    return str(found[0]["id"])


def group_id(ref: str) -> str:
    """A group named on the command line (name or id), as its id."""
    from guificloud_cli.identity_cmds import group_id as of_identity  # it imports this module

    return of_identity(ref)


def _short(value: str | None) -> str:
    return value[:8] if value else ""


# --- zones --------------------------------------------------------------------------------
ZONE_COLUMNS = ("id", "name", "guifi id", "parent")


def _zone_row(z: Mapping[str, Any]) -> list[Any]:
    return [z["id"], z["name"], z["external_id"], _short(z["parent_id"])]


@zone_app.command("add")
def zone_add(
    name: str = typer.Argument(..., help="The zone's title."),
    parent: str | None = typer.Option(None, "--parent", help="Parent zone (id or guifi id)."),
    nick: str | None = typer.Option(None, "--nick"),
    output: Output | None = OutputOption,
    url: str = RegistryUrl,
) -> None:
    """Create a zone."""

    def body() -> None:
        with registry(url) as client:
            payload: dict[str, Any] = {"name": name, "nick": nick}
            if parent is not None:
                payload["parent_id"] = _resolve(client, "zone", parent)
            zone = checked(
                client.post("/api/v1/zones", json={k: v for k, v in payload.items() if v}), 201
            )
        show([zone], ZONE_COLUMNS, _zone_row, title="zone created", output=output)

    run(body)


@zone_app.command("list")
def zone_list(
    parent: str | None = typer.Option(None, "--parent", help="Children of this zone."),
    within: str | None = typer.Option(None, "--within", help="This zone's whole subtree."),
    q: str | None = typer.Option(None, "--q", help="Text in the name."),
    limit: int = typer.Option(100, "--limit", min=1, max=5000),
    every: bool = AllPages,
    output: Output | None = OutputOption,
    url: str = RegistryUrl,
) -> None:
    """List zones by name."""

    def body() -> None:
        with registry(url) as client:
            params = {
                "parent_id": _resolve(client, "zone", parent) if parent else None,
                "within": _resolve(client, "zone", within) if within else None,
                "q": q,
                "limit": limit,
            }
            zones = list(_pages(client, "/api/v1/zones", params, every))
        show(zones, ZONE_COLUMNS, _zone_row, title=f"zones ({len(zones)})", output=output)

    run(body)


# --- nodes --------------------------------------------------------------------------------
NODE_COLUMNS = ("id", "name", "status", "latitude", "longitude", "zone", "guifi id")


def _node_row(n: Mapping[str, Any]) -> list[Any]:
    return [
        n["id"],
        n["name"],
        n["status"],
        f"{n['latitude']:.6f}",
        f"{n['longitude']:.6f}",
        _short(n["zone_id"]),
        n["external_id"],
    ]


@node_app.command("add")
def node_add(
    name: str = typer.Argument(..., help="The node's title."),
    zone: str = typer.Option(..., "--zone", help="Its zone (id or guifi id)."),
    lat: float = typer.Option(..., "--lat", help="Latitude in degrees."),
    lon: float = typer.Option(..., "--lon", help="Longitude in degrees."),
    status: str = typer.Option("Planned", "--status", help="Planned, Working, ..."),
    elevation: int | None = typer.Option(None, "--elevation", help="Antenna height (m)."),
    nick: str | None = typer.Option(None, "--nick"),
    owner: str | None = typer.Option(None, "--owner"),
    description: str | None = typer.Option(None, "--description"),
    group: str | None = typer.Option(
        None, "--group", help="The group it belongs to (name or id): needed for a cloud box."
    ),
    output: Output | None = OutputOption,
    url: str = RegistryUrl,
) -> None:
    """Step 1 (and 2): create a node with its information and its place on the map; yours,
    and its group's with --group (you must be its group or node admin)."""

    def body() -> None:
        with registry(url) as client:
            payload = {
                "owner_group_id": group_id(group) if group else None,
                "name": name,
                "zone_id": _resolve(client, "zone", zone),
                "latitude": lat,
                "longitude": lon,
                "status": status,
                "elevation": elevation,
                "nick": nick,
                "owner": owner,
                "description": description,
            }
            node = checked(
                client.post(
                    "/api/v1/nodes", json={k: v for k, v in payload.items() if v is not None}
                ),
                201,
            )
        show([node], NODE_COLUMNS, _node_row, title="node created", output=output)

    run(body)


@node_app.command("move")
def node_move(
    node: str = typer.Argument(..., help="The node (id or guifi id)."),
    lat: float = typer.Option(..., "--lat"),
    lon: float = typer.Option(..., "--lon"),
    url: str = RegistryUrl,
) -> None:
    """Step 2: set or correct a node's location."""

    def body() -> None:
        with registry(url) as client:
            node_id = _resolve(client, "node", node)
            moved = checked(
                client.put(
                    f"/api/v1/nodes/{node_id}/location", json={"latitude": lat, "longitude": lon}
                )
            )
        show([moved], NODE_COLUMNS, _node_row, title="node moved")

    run(body)


@node_app.command("set")
def node_set(
    node: str = typer.Argument(..., help="The node (id or guifi id)."),
    name: str | None = typer.Option(None, "--name"),
    status: str | None = typer.Option(None, "--status"),
    zone: str | None = typer.Option(None, "--zone", help="Move it to another zone."),
    elevation: int | None = typer.Option(None, "--elevation"),
    owner: str | None = typer.Option(None, "--owner"),
    url: str = RegistryUrl,
) -> None:
    """Correct a node's information (only the options given change)."""

    def body() -> None:
        with registry(url) as client:
            node_id = _resolve(client, "node", node)
            payload = {
                "name": name,
                "status": status,
                "zone_id": _resolve(client, "zone", zone) if zone else None,
                "elevation": elevation,
                "owner": owner,
            }
            changes = {k: v for k, v in payload.items() if v is not None}
            updated = checked(client.patch(f"/api/v1/nodes/{node_id}", json=changes))
        show([updated], NODE_COLUMNS, _node_row, title="node updated")

    run(body)


@node_app.command("list")
def node_list(
    zone: str | None = typer.Option(
        None, "--zone", help="Nodes directly in this zone (id or guifi id), not its subzones."
    ),
    within: str | None = typer.Option(
        None, "--within", help="Nodes in this zone or any zone under it (id or guifi id)."
    ),
    status: list[str] = typer.Option([], "--status", help="Status (repeatable)."),
    device_type: list[str] = typer.Option([], "--device-type", help="With such a device."),
    bbox: str | None = typer.Option(None, "--bbox", help="min_lon,min_lat,max_lon,max_lat"),
    q: str | None = typer.Option(None, "--q", help="Text in the name."),
    limit: int = Limit,
    every: bool = AllPages,
    output: Output | None = OutputOption,
    url: str = RegistryUrl,
) -> None:
    """List nodes, oldest first, filtered."""

    def body() -> None:
        with registry(url) as client:
            params = {
                "zone_id": _resolve(client, "zone", zone) if zone else None,
                "within": _resolve(client, "zone", within) if within else None,
                "status": status,
                "device_type": device_type,
                "bbox": bbox,
                "q": q,
                "limit": limit,
            }
            nodes = list(_pages(client, "/api/v1/nodes", params, every))
        show(nodes, NODE_COLUMNS, _node_row, title=f"nodes ({len(nodes)})", output=output)

    run(body)


@node_app.command("show")
def node_show(
    node: str = typer.Argument(..., help="The node (id or guifi id)."), url: str = RegistryUrl
) -> None:
    """A node and its devices."""

    def body() -> None:
        with registry(url) as client:
            node_id = _resolve(client, "node", node)
            found = checked(client.get(f"/api/v1/nodes/{node_id}"))
            devices = checked(client.get(f"/api/v1/nodes/{node_id}/devices"))
        show([found], NODE_COLUMNS, _node_row, title="node")
        show(devices, DEVICE_COLUMNS, _device_row, title=f"devices ({len(devices)})")

    run(body)


# --- devices ------------------------------------------------------------------------------
DEVICE_COLUMNS = ("id", "name", "type", "status", "ipv4", "hardware", "node")


def _device_row(d: Mapping[str, Any]) -> list[Any]:
    hw = d.get("hardware")
    hardware = f"{hw['arch']} {hw['cores']}c {hw['ram_mb']}MB {hw['disk_gb']}GB" if hw else None
    return [
        d["id"],
        d["name"],
        d["type"],
        d["status"],
        d["main_ipv4"],
        hardware,
        _short(d["node_id"]),
    ]


@device_app.command("add")
def device_add(
    node: str = typer.Argument(..., help="The node (id or guifi id)."),
    name: str = typer.Argument(..., help="The device's title."),
    kind: str = typer.Option(..., "--type", help="radio, server, cloudy, confine, ..."),
    status: str = typer.Option("Working", "--status"),
    ipv4: str | None = typer.Option(None, "--ipv4", help="Main IPv4 address."),
    model: str | None = typer.Option(None, "--model"),
    firmware: str | None = typer.Option(None, "--firmware"),
    arch: str | None = typer.Option(None, "--arch", help="Cloud box: amd64, i386, arm64, armhf."),
    cores: int | None = typer.Option(None, "--cores", help="Cloud box: CPU cores."),
    ram_mb: int | None = typer.Option(None, "--ram-mb", help="Cloud box: RAM in MB."),
    disk_gb: int | None = typer.Option(None, "--disk-gb", help="Cloud box: disk in GB."),
    output: Output | None = OutputOption,
    url: str = RegistryUrl,
) -> None:
    """Step 3: add a device to a node; a cloud device (with its hardware) starts onboarding."""

    def body() -> None:
        hardware = {"arch": arch, "cores": cores, "ram_mb": ram_mb, "disk_gb": disk_gb}
        given = {k: v for k, v in hardware.items() if v is not None}
        with registry(url) as client:
            node_id = _resolve(client, "node", node)
            payload: dict[str, Any] = {
                "name": name,
                "type": kind,
                "status": status,
                "main_ipv4": ipv4,
                "model": model,
                "firmware": firmware,
                "hardware": given or None,
            }
            device = checked(
                client.post(
                    f"/api/v1/nodes/{node_id}/devices",
                    json={k: v for k, v in payload.items() if v is not None},
                ),
                201,
            )
        show([device], DEVICE_COLUMNS, _device_row, title="device added", output=output)

    run(body)


@device_app.command("list")
def device_list(
    node: str | None = typer.Option(None, "--node", help="Devices of this node."),
    within: str | None = typer.Option(None, "--within", help="A zone's whole subtree."),
    kind: list[str] = typer.Option([], "--type", help="Device type (repeatable)."),
    q: str | None = typer.Option(None, "--q", help="Text in the name."),
    limit: int = Limit,
    every: bool = AllPages,
    output: Output | None = OutputOption,
    url: str = RegistryUrl,
) -> None:
    """List devices, oldest first, filtered."""

    def body() -> None:
        with registry(url) as client:
            params = {
                "node_id": _resolve(client, "node", node) if node else None,
                "within": _resolve(client, "zone", within) if within else None,
                "type": kind,
                "q": q,
                "limit": limit,
            }
            devices = list(_pages(client, "/api/v1/devices", params, every))
        show(devices, DEVICE_COLUMNS, _device_row, title=f"devices ({len(devices)})", output=output)

    run(body)


# --- CNML ---------------------------------------------------------------------------------
KINDS = ("zones", "nodes", "devices", "radios", "interfaces", "links", "services")


def _source(source: str) -> Iterator[bytes]:
    """The bytes of a file, or of a URL as they arrive (never held whole in memory)."""
    if source.startswith(("http://", "https://")):
        with httpx.stream("GET", source, timeout=60, follow_redirects=True) as response:
            if response.status_code != 200:
                raise Failed(f"{source}: {response.status_code}")
            yield from response.iter_bytes()
        return
    path = Path(source)
    if not path.is_file():
        raise Failed(f"{source}: no such file")
    with path.open("rb") as f:
        while chunk := f.read(1 << 16):
            yield chunk


@cnml_app.command("import")
def cnml_import(
    source: str = typer.Argument(..., help="A CNML file, or its URL (guifi.net's export)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would change."),
    url: str = RegistryUrl,
) -> None:
    """Import a CNML export (zones, nodes or detail); importing it again changes nothing."""

    def body() -> None:
        with registry(url, timeout=600) as client:
            result = checked(
                client.post(
                    "/api/v1/cnml",
                    content=_source(source),
                    params={"dry_run": dry_run},
                    headers={"Content-Type": "application/xml"},
                )
            )
        tallies = [{"records": k, **result["records"][k]} for k in KINDS]
        title = (
            f"CNML {result['level']} import{' (dry run)' if dry_run else ''}, "
            f"events published: {result['events']}"
        )
        show(
            [t for t in tallies if t["in_file"]],
            ("records", "in file", "created", "updated", "unchanged"),
            lambda t: [t["records"], t["in_file"], t["created"], t["updated"], t["unchanged"]],
            title=title,
        )

    run(body)


@cnml_app.command("export")
def cnml_export(
    zone: str = typer.Argument(..., help="The zone (id or guifi id) whose subtree to export."),
    level: str = typer.Option("detail", "--level", help="zones, nodes or detail."),
    output: Path | None = typer.Option(None, "--output", "-o", help="File (default: stdout)."),
    url: str = RegistryUrl,
) -> None:
    """Export a zone's subtree as CNML."""

    def body() -> None:
        with registry(url, timeout=600) as client:
            zone_id = _resolve(client, "zone", zone)
            with client.stream(
                "GET", f"/api/v1/zones/{zone_id}/cnml", params={"level": level}
            ) as response:
                if response.status_code != 200:
                    response.read()
                    checked(response)
                sink = output.open("wb") if output else sys.stdout.buffer
                try:
                    for chunk in response.iter_bytes():
                        sink.write(chunk)
                finally:
                    if output:
                        sink.close()
                    else:
                        sink.flush()

    run(body)
