"""``guificloud slice …``: slices and their slivers, on the provisioner's API.

    guificloud slice create lab --group scouts --image guifi-community-distro:1.0.0 --count 5
    guificloud slice start SLICE_ID
    guificloud slice show SLICE_ID --watch
    guificloud slice sliver set SLIVER_ID --state deploy

A slice moves ``register → deploy → start`` by PATCH of its ``set_state``; ``stop`` takes it
back to ``deploy``. ``show --watch`` follows every sliver until the slice settles (each
sliver reached its effective state, or failed) and exits 1 if any failed. Every command
talks to a running provisioner (``--provisioner-url``, or ``GUIFICLOUD_PROVISIONER_URL``) as
the stored login (``guificloud login``), or with the admin token (``--admin-token-file``, or
``GUIFICLOUD_ADMIN_TOKEN`` when there is no login).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import typer
from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from guificloud.credentials import caller_auth
from guificloud.retries import RetryingTransport
from guificloud.secret_files import AdminTokenFile
from guificloud.settings import DEFAULT_PORTS
from guificloud.states import REACHES, SET_STATES, sliver_failed, sliver_settled
from guificloud.tls import env_ca, verify
from guificloud_cli.identity_cmds import group_id
from guificloud_cli.output import Output, OutputOption, show, table
from guificloud_cli.registry_cmds import Failed, checked, run

DEFAULT_URL = f"http://127.0.0.1:{DEFAULT_PORTS['provisioner']}"

slice_app = typer.Typer(no_args_is_help=True, help="Slices: slivers of an image on many boxes.")
sliver_app = typer.Typer(no_args_is_help=True, help="One sliver: its own state or image.")
slice_app.add_typer(sliver_app, name="sliver")

ProvisionerUrl = typer.Option(
    DEFAULT_URL,
    "--provisioner-url",
    envvar="GUIFICLOUD_PROVISIONER_URL",
    help="The provisioner's URL.",
)

out = Console(soft_wrap=False)
err = Console(stderr=True)


@contextmanager
def provisioner(url: str, token_file: Path | None = None) -> Iterator[httpx.Client]:
    """A client with the stored login, or the admin token (:func:`caller_auth`)."""
    with httpx.Client(
        base_url=url.rstrip("/"),
        timeout=30.0,
        auth=caller_auth(token_file),
        transport=RetryingTransport(verify=verify(env_ca())),
    ) as client:
        try:
            yield client
        except httpx.HTTPError as exc:
            raise Failed(f"provisioner unreachable at {url}: {exc}") from exc


def parse_image(ref: str) -> dict[str, str]:
    """``sha256:<hex>`` is a digest; else ``NAME`` or ``NAME:VERSION``."""
    if ref.startswith("sha256:"):
        return {"digest": ref}
    name, _, version = ref.partition(":")
    if not name:
        raise typer.BadParameter("an image name is needed", param_hint="--image")
    return {"name": name, "version": version} if version else {"name": name}


def _all(client: httpx.Client, path: str, params: dict[str, Any] | None = None) -> list[Any]:
    """Every row of a list, following the ``next`` links of cursor pagination."""
    response = client.get(path, params={k: v for k, v in (params or {}).items() if v is not None})
    rows: list[Any] = []
    while True:
        rows.extend(checked(response))
        link = response.links.get("next", {}).get("url")
        if not link:
            return rows
        response = client.get(link)


def _image(image: dict[str, Any] | None) -> str:
    if not image:
        return ""
    name = f"{image.get('name') or ''}:{image.get('version') or ''}".strip(":")
    digest = (image.get("digest") or "")[:19]
    return f"{name} {digest}".strip()


SLICE_COLUMNS = ("id", "name", "owner", "image", "set state", "instance", "slivers", "expires")


def _counts(s: Mapping[str, Any]) -> str:
    counts = s.get("counts") or {}
    return " ".join(f"{state}={n}" for state, n in sorted(counts.items()) if n) or "-"


def _slice_row(s: Mapping[str, Any]) -> list[Any]:
    return [
        s["id"],
        s["name"],
        s["owner_group"],
        _image(s.get("image")),
        s["set_state"],
        s["instance"],
        _counts(s),
        str(s.get("expires_at") or "")[:19],
    ]


SLIVER_COLUMNS = ("sliver", "box", "node", "set state", "state", "instance", "reason")


def _sliver_row(v: Mapping[str, Any]) -> list[Any]:
    own = v.get("set_state")
    effective = v["effective_set_state"]
    return [
        v["id"],
        str(v["box_id"])[:8],
        str(v.get("node_id") or "")[:8],
        effective + (" (own)" if own else ""),
        _styled(v),
        v["instance"],
        v.get("reason") or "",
    ]


def _styled(v: Mapping[str, Any]) -> Text:
    state = str(v["state"])
    if sliver_failed(state):
        return Text(state, style="red")
    if reached(v):
        return Text(state, style="green")
    return Text(state, style="yellow")


def reached(v: Mapping[str, Any]) -> bool:
    """The sliver is where it was asked to be (its instance too, after a reset)."""
    return bool(v["state"] == REACHES[v["effective_set_state"]])


def settled(slivers: Sequence[Mapping[str, Any]]) -> bool:
    """Every sliver reached its effective state or failed."""
    return all(sliver_settled(v["state"], v["effective_set_state"]) for v in slivers)


def _view(s: Mapping[str, Any], slivers: Sequence[Mapping[str, Any]]) -> Table:
    title = f"slice {s['name']} ({s['id']}): set_state {s['set_state']}, {_counts(s)}"
    return table(title, SLIVER_COLUMNS, [_sliver_row(v) for v in slivers])


# --- slices -----------------------------------------------------------------------------
@slice_app.command("create")
def slice_create(
    name: str = typer.Argument(..., help="The slice's name."),
    image: str = typer.Option(..., "--image", help="NAME[:VERSION] or sha256:<digest>."),
    group: str = typer.Option(
        ..., "--group", help="Its group (name or id), where you are slice or group admin."
    ),
    count: int | None = typer.Option(None, "--count", min=1, help="Slivers the scheduler places."),
    box: list[str] = typer.Option([], "--box", help="Explicit placement (repeatable box id)."),
    zone: str | None = typer.Option(None, "--zone", help="Only boxes in this zone's subtree."),
    arch: str | None = typer.Option(None, "--arch", help="amd64, i386, arm64, armhf."),
    memory: int | None = typer.Option(None, "--memory", min=1, help="MB per sliver (512)."),
    disk: int | None = typer.Option(None, "--disk", min=1, help="MB per sliver (200)."),
    cpu: float | None = typer.Option(None, "--cpu", min=0.01, help="CPU share per sliver (1.0)."),
    min_free_memory: int | None = typer.Option(None, "--min-free-memory", min=0, help="MB."),
    min_free_disk: int | None = typer.Option(None, "--min-free-disk", min=0, help="MB."),
    spread: bool = typer.Option(True, "--spread/--no-spread", help="At most one per node."),
    replace_on_loss: bool = typer.Option(
        False, "--replace-on-loss", help="Re-place slivers of boxes that go offline."
    ),
    set_state: str = typer.Option("register", "--set-state", help="register, deploy or start."),
    expires_in_days: int | None = typer.Option(None, "--expires-in-days", min=1),
    description: str | None = typer.Option(None, "--description"),
    output: Output | None = OutputOption,
    url: str = ProvisionerUrl,
    token_file: Path | None = AdminTokenFile,
) -> None:
    """Create a slice: placed on explicit boxes (--box), or --count boxes the scheduler picks.

    --output json prints the slice with its slivers (``slivers``) as one record."""
    if bool(box) == (count is not None):
        raise typer.BadParameter("give either --count or --box (one or more)", param_hint="--count")
    if set_state not in SET_STATES:
        raise typer.BadParameter(f"one of {', '.join(SET_STATES)}", param_hint="--set-state")
    placement: dict[str, Any]
    if box:
        placement = {"boxes": box}
    else:
        placement = {
            "count": count,
            "zone_id": zone,
            "arch": arch,
            "min_free_memory_mb": min_free_memory,
            "min_free_disk_mb": min_free_disk,
            "spread": spread,
        }
        placement = {k: v for k, v in placement.items() if v is not None}
    defaults = {"memory_mb": memory, "disk_mb": disk, "cpu_share": cpu}
    payload: dict[str, Any] = {
        "name": name,
        "description": description,
        "image": parse_image(image),
        "sliver_defaults": {k: v for k, v in defaults.items() if v is not None} or None,
        "placement": placement,
        "replace_on_loss": replace_on_loss,
        "set_state": set_state,
        "expires_in_days": expires_in_days,
    }

    def body() -> None:
        payload["group_id"] = group_id(group)
        with provisioner(url, token_file) as client:
            created = checked(
                client.post(
                    "/api/v1/slices", json={k: v for k, v in payload.items() if v is not None}
                ),
                201,
            )
            slivers = _all(client, f"/api/v1/slices/{created['id']}/slivers")
        if output is Output.json:
            created["slivers"] = slivers
        show([created], SLICE_COLUMNS, _slice_row, title="slice created", output=output)
        if output is not Output.json:
            show(slivers, SLIVER_COLUMNS, _sliver_row, title=f"slivers ({len(slivers)})")

    run(body)


@slice_app.command("ls")
def slice_ls(
    group: str | None = typer.Option(None, "--group", help="Only this group's (name or id)."),
    set_state: str | None = typer.Option(None, "--set-state"),
    output: Output | None = OutputOption,
    url: str = ProvisionerUrl,
    token_file: Path | None = AdminTokenFile,
) -> None:
    """List slices: your groups' (every one for an operator)."""

    def body() -> None:
        params = {"group_id": group_id(group) if group else None, "set_state": set_state}
        with provisioner(url, token_file) as client:
            slices = _all(client, "/api/v1/slices", params)
        show(slices, SLICE_COLUMNS, _slice_row, title=f"slices ({len(slices)})", output=output)

    run(body)


@slice_app.command("show")
def slice_show(
    slice_id: str = typer.Argument(..., help="The slice's id."),
    watch: bool = typer.Option(False, "--watch", help="Follow the slivers until it settles."),
    interval: float = typer.Option(0.5, "--interval", min=0.05, help="Seconds between looks."),
    timeout: float = typer.Option(600.0, "--timeout", min=0.1, help="Give up watching (s)."),
    url: str = ProvisionerUrl,
    token_file: Path | None = AdminTokenFile,
) -> None:
    """A slice and each sliver's state (box, node, state, reason).

    --watch refreshes until every sliver reached its state or failed; exits 1 if any
    failed, 2 if the slice did not settle within --timeout.
    """

    def look(client: httpx.Client) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        found = checked(client.get(f"/api/v1/slices/{slice_id}"))
        return found, _all(client, f"/api/v1/slices/{slice_id}/slivers")

    def body() -> int:
        with provisioner(url, token_file) as client:
            found, slivers = look(client)
            if not watch:
                show([found], SLICE_COLUMNS, _slice_row, title="slice")
                show(slivers, SLIVER_COLUMNS, _sliver_row, title=f"slivers ({len(slivers)})")
                return 0
            deadline = time.monotonic() + timeout
            with Live(_view(found, slivers), console=out, auto_refresh=False) as live:
                while not settled(slivers) and time.monotonic() < deadline:
                    time.sleep(interval)
                    found, slivers = look(client)
                    live.update(_view(found, slivers), refresh=True)
            if not out.is_terminal:
                out.line()  # the last view printed to a file or pipe ends without one
        failed = [v for v in slivers if sliver_failed(v["state"])]
        if not settled(slivers):
            err.print(f"[yellow]not settled after {timeout:g}s[/yellow]")
            return 2
        if failed:
            err.print(f"[red]{len(failed)} of {len(slivers)} slivers failed[/red]")
            return 1
        out.print(f"settled: {len(slivers)} slivers {found['set_state']}")
        return 0

    code = run(body)
    if code:
        raise typer.Exit(code)


def _set_state(slice_id: str, state: str, url: str, token_file: Path | None) -> None:
    def body() -> None:
        with provisioner(url, token_file) as client:
            updated = checked(client.patch(f"/api/v1/slices/{slice_id}", json={"set_state": state}))
        show([updated], SLICE_COLUMNS, _slice_row, title=f"slice set to {state}")

    run(body)


@slice_app.command("register")
def slice_register(
    slice_id: str = typer.Argument(...),
    url: str = ProvisionerUrl,
    token_file: Path | None = AdminTokenFile,
) -> None:
    """Back to register: the slivers are removed from their boxes (they stay placed)."""
    _set_state(slice_id, "register", url, token_file)


@slice_app.command("deploy")
def slice_deploy(
    slice_id: str = typer.Argument(...),
    url: str = ProvisionerUrl,
    token_file: Path | None = AdminTokenFile,
) -> None:
    """Deploy: every box fetches the image and makes its sliver's container, stopped."""
    _set_state(slice_id, "deploy", url, token_file)


@slice_app.command("start")
def slice_start(
    slice_id: str = typer.Argument(...),
    url: str = ProvisionerUrl,
    token_file: Path | None = AdminTokenFile,
) -> None:
    """Start every sliver."""
    _set_state(slice_id, "start", url, token_file)


@slice_app.command("stop")
def slice_stop(
    slice_id: str = typer.Argument(...),
    url: str = ProvisionerUrl,
    token_file: Path | None = AdminTokenFile,
) -> None:
    """Stop every sliver: back to deploy (containers kept, not running)."""
    _set_state(slice_id, "deploy", url, token_file)


def _action(slice_id: str, action: str, url: str, token_file: Path | None) -> None:
    def body() -> None:
        with provisioner(url, token_file) as client:
            done = checked(client.post(f"/api/v1/slices/{slice_id}/{action}"), 200, 201, 202)
        show([done], SLICE_COLUMNS, _slice_row, title=f"slice {action}")

    run(body)


@slice_app.command("renew")
def slice_renew(
    slice_id: str = typer.Argument(...),
    url: str = ProvisionerUrl,
    token_file: Path | None = AdminTokenFile,
) -> None:
    """Push the expiry back to 30 days from now."""
    _action(slice_id, "renew", url, token_file)


@slice_app.command("reset")
def slice_reset(
    slice_id: str = typer.Argument(...),
    url: str = ProvisionerUrl,
    token_file: Path | None = AdminTokenFile,
) -> None:
    """Redeploy every sliver from scratch (a new instance)."""
    _action(slice_id, "reset", url, token_file)


@slice_app.command("delete")
def slice_delete(
    slice_id: str = typer.Argument(...),
    url: str = ProvisionerUrl,
    token_file: Path | None = AdminTokenFile,
) -> None:
    """Delete a slice: its slivers are removed from their boxes, then it is gone."""

    def body() -> None:
        with provisioner(url, token_file) as client:
            checked(client.delete(f"/api/v1/slices/{slice_id}"), 202, 204)
        out.print(f"slice {slice_id} deleted (slivers being removed from their boxes)")

    run(body)


# --- slivers ----------------------------------------------------------------------------
@sliver_app.command("set")
def sliver_set(
    sliver_id: str = typer.Argument(..., help="The sliver's id."),
    state: str | None = typer.Option(
        None,
        "--state",
        help="register, deploy or start (never above the slice's); 'slice' drops the override.",
    ),
    image: str | None = typer.Option(None, "--image", help="NAME[:VERSION] or sha256:<digest>."),
    url: str = ProvisionerUrl,
    token_file: Path | None = AdminTokenFile,
) -> None:
    """Override one sliver's state (lower than its slice's) or its image."""
    if state is None and image is None:
        raise typer.BadParameter("give --state and/or --image", param_hint="--state")
    if state is not None and state not in (*SET_STATES, "slice"):
        raise typer.BadParameter(f"one of {', '.join(SET_STATES)}, slice", param_hint="--state")
    payload: dict[str, Any] = {}
    if state is not None:
        payload["set_state"] = None if state == "slice" else state
    if image is not None:
        payload["image"] = parse_image(image)

    def body() -> None:
        with provisioner(url, token_file) as client:
            updated = checked(client.patch(f"/api/v1/slivers/{sliver_id}", json=payload))
        show([updated], SLIVER_COLUMNS, _sliver_row, title="sliver updated")

    run(body)


@sliver_app.command("add")
def sliver_add(
    slice_id: str = typer.Argument(..., help="The slice's id."),
    box: str = typer.Option(..., "--box", help="The box to place it on."),
    url: str = ProvisionerUrl,
    token_file: Path | None = AdminTokenFile,
) -> None:
    """One more sliver of a slice, on an explicit box."""

    def body() -> None:
        with provisioner(url, token_file) as client:
            added = checked(
                client.post(f"/api/v1/slices/{slice_id}/slivers", json={"box_id": box}), 201
            )
        show([added], SLIVER_COLUMNS, _sliver_row, title="sliver added")

    run(body)


@sliver_app.command("delete")
def sliver_delete(
    sliver_id: str = typer.Argument(...),
    url: str = ProvisionerUrl,
    token_file: Path | None = AdminTokenFile,
) -> None:
    """Remove one sliver from its box and from its slice."""

    def body() -> None:
        with provisioner(url, token_file) as client:
            checked(client.delete(f"/api/v1/slivers/{sliver_id}"), 200, 202, 204)
        out.print(f"sliver {sliver_id} deleted")

    run(body)
