"""``guificloud login|logout|whoami``, ``guificloud group …`` and ``guificloud token …``: the
identity service's API as commands (``--identity-url`` or ``GUIFICLOUD_IDENTITY_URL``).

A password is asked at a prompt, or read from standard input or ``--password-file``; never
from an argument (``ps`` shows arguments to every user of the machine).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import typer
from rich.console import Console
from rich.table import Table

from guificloud import credentials
from guificloud.credentials import IDENTITY_URL_ENV, LoginRequired
from guificloud.retries import RetryingTransport
from guificloud.tls import env_ca, verify
from guificloud_cli.registry_cmds import UUID_RE, Failed, checked

IdentityUrl = typer.Option(
    None, "--identity-url", envvar=IDENTITY_URL_ENV, help="The identity service's URL."
)
group_app = typer.Typer(no_args_is_help=True, help="Groups, their members and roles.")
token_app = typer.Typer(no_args_is_help=True, help="API tokens for tools and scripts.")

out = Console(soft_wrap=False)
err = Console(stderr=True)


def run(body: Callable[[], None]) -> None:
    """Run a command body; a refusal or a missing login is a message and exit status 1."""
    try:
        body()
    except (Failed, LoginRequired) as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from exc


def _url(given: str | None) -> str:
    if given:
        return given.rstrip("/")
    stored = credentials.load()
    return stored.identity_url if stored else credentials.DEFAULT_IDENTITY_URL


@contextmanager
def identity(url: str | None, *, auth: bool = True) -> Iterator[httpx.Client]:
    base = _url(url)
    with httpx.Client(
        base_url=base,
        timeout=30.0,
        transport=RetryingTransport(verify=verify(env_ca())),
        auth=credentials.client_auth() if auth else None,
    ) as client:
        try:
            yield client
        except httpx.HTTPError as exc:
            raise Failed(f"identity service unreachable at {base}: {exc}") from exc


def _table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> Table:
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold", no_wrap=column == "id")
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    return table


def read_password(password_file: Path | None) -> str:
    if password_file is not None:
        return password_file.read_text().strip()
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    return str(typer.prompt("password", hide_input=True))


# --- login ---------------------------------------------------------------------------------


def login(
    name: str = typer.Option(..., "--login", "-l", prompt=True, help="Your login."),
    password_file: Path | None = typer.Option(
        None, "--password-file", help="Read the password from this file (else a prompt, or stdin)."
    ),
    url: str | None = IdentityUrl,
) -> None:
    """Log in; the tokens are kept in your config folder (mode 0600) for every command."""

    def body() -> None:
        password = read_password(password_file)
        with identity(url, auth=False) as client:
            path = credentials.save(credentials.log_in(client, name, password))
        err.print(f"logged in as {name} (kept in {path})")

    run(body)


def logout(url: str | None = IdentityUrl) -> None:
    """Revoke the stored login's session and forget it."""

    def body() -> None:
        stored = credentials.load()
        if stored is None:
            err.print("not logged in")
            return
        with identity(url or stored.identity_url, auth=False) as client:
            response = client.post(
                "/api/v1/auth/logout", headers={"Authorization": f"Bearer {stored.refresh_token}"}
            )
        credentials.forget()
        if response.status_code not in (204, 401):  # 401: revoked or expired already
            checked(response, 204)
        err.print(f"logged out {stored.login}")

    run(body)


def whoami(url: str | None = IdentityUrl) -> None:
    """Who the stored login (or ``GUIFICLOUD_TOKEN``) is: groups, roles, maintained zones."""

    def body() -> None:
        if credentials.client_auth() is None:
            raise LoginRequired("not logged in: guificloud login")
        with identity(url) as client:
            me = checked(client.get("/api/v1/auth/whoami"))
            names = {g["id"]: g["name"] for g in checked(client.get("/api/v1/groups"))}
        operator = ", operator" if me["is_operator"] else ""
        out.print(
            f"{me['login']} ({me['kind']}{operator}) {me['id']}", highlight=False, markup=False
        )
        rows = [[names.get(g, g), g, ", ".join(r) or "-"] for g, r in me["groups"].items()]
        out.print(_table("groups", ("group", "id", "roles"), rows))
        if me["zones"]:
            out.print("maintains zones: " + ", ".join(me["zones"]), highlight=False)
        if me["scopes"] is not None:
            out.print("scopes: " + ", ".join(me["scopes"]), highlight=False)

    run(body)


# --- groups --------------------------------------------------------------------------------
GROUP_COLUMNS = ("id", "name", "nodes", "slices", "slivers", "memory MB", "disk MB", "images")


def _group_row(g: dict[str, Any]) -> list[Any]:
    q = g["quotas"]
    return [
        g["id"],
        g["name"],
        "yes" if g["allow_nodes"] else "no",
        "yes" if g["allow_slices"] else "no",
        q["slivers"],
        q["memory_mb"],
        q["disk_mb"],
        q["images"],
    ]


def _group_id(client: httpx.Client, ref: str) -> str:
    if UUID_RE.match(ref):
        return ref
    found = checked(client.get("/api/v1/groups", params={"name": ref}))
    if not found:
        raise Failed(f"no group named {ref!r}")
    return str(found[0]["id"])


def group_id(ref: str, url: str | None = None) -> str:
    """A group named on the command line (name or id), as its id: what ``--group`` takes."""
    if UUID_RE.match(ref):
        return ref
    with identity(url) as client:
        return _group_id(client, ref)


def _account_id(client: httpx.Client, ref: str) -> str:
    if UUID_RE.match(ref):
        return ref
    for kind in ("members", "tools"):
        found = checked(client.get(f"/api/v1/{kind}", params={"login": ref}))
        if found:
            return str(found[0]["id"])
    raise Failed(f"no member or tool with login {ref!r}")


Roles = typer.Option(
    [], "--role", help="group_admin, node_admin (technician) or slice_admin (researcher)."
)


@group_app.command("list")
def group_list(url: str | None = IdentityUrl) -> None:
    """Every group, with what it may have and its quotas."""

    def body() -> None:
        with identity(url) as client:
            rows = [_group_row(g) for g in checked(client.get("/api/v1/groups"))]
        out.print(_table(f"groups ({len(rows)})", GROUP_COLUMNS, rows))

    run(body)


@group_app.command("create")
def group_create(
    name: str = typer.Argument(...),
    description: str | None = typer.Option(None, "--description"),
    url: str | None = IdentityUrl,
) -> None:
    """Found a group (you are its group admin); an operator allows it nodes or slices."""

    def body() -> None:
        with identity(url) as client:
            payload = {"name": name, "description": description}
            group = checked(client.post("/api/v1/groups", json=payload), 201)
        out.print(_table("group created", GROUP_COLUMNS, [_group_row(group)]))

    run(body)


@group_app.command("show")
def group_show(
    group: str = typer.Argument(..., help="Name or id."), url: str | None = IdentityUrl
) -> None:
    """A group and its members' roles."""

    def body() -> None:
        with identity(url) as client:
            group_id = _group_id(client, group)
            found = checked(client.get(f"/api/v1/groups/{group_id}"))
            members = checked(client.get(f"/api/v1/groups/{group_id}/members"))
        out.print(_table("group", GROUP_COLUMNS, [_group_row(found)]))
        rows = [[m["login"], m["display_name"], ", ".join(m["roles"]) or "-"] for m in members]
        out.print(_table(f"members ({len(rows)})", ("login", "name", "roles"), rows))

    run(body)


def _set_roles(group: str, account: str, roles: list[str], url: str | None) -> None:
    with identity(url) as client:
        group_id = _group_id(client, group)
        account_id = _account_id(client, account)
        done = checked(
            client.put(f"/api/v1/groups/{group_id}/members/{account_id}", json={"roles": roles})
        )
    out.print(
        f"{done['login']} in {group}: {', '.join(done['roles']) or 'member'}", highlight=False
    )


@group_app.command("add-member")
def group_add_member(
    group: str = typer.Argument(...),
    account: str = typer.Argument(..., help="Login or id of a member or tool."),
    role: list[str] = Roles,
    url: str | None = IdentityUrl,
) -> None:
    """Add a member or tool account to a group (group admins, operators)."""
    run(lambda: _set_roles(group, account, role, url))


@group_app.command("set-role")
def group_set_role(
    group: str = typer.Argument(...),
    account: str = typer.Argument(...),
    role: list[str] = Roles,
    url: str | None = IdentityUrl,
) -> None:
    """Set an account's roles in a group (none: a plain member)."""
    run(lambda: _set_roles(group, account, role, url))


@group_app.command("remove-member")
def group_remove_member(
    group: str = typer.Argument(...),
    account: str = typer.Argument(...),
    url: str | None = IdentityUrl,
) -> None:
    """Remove an account from a group (group admins; anyone, to leave)."""

    def body() -> None:
        with identity(url) as client:
            path = (
                f"/api/v1/groups/{_group_id(client, group)}/members/{_account_id(client, account)}"
            )
            checked(client.delete(path), 204)
        out.print(f"{account} removed from {group}", highlight=False)

    run(body)


@group_app.command("allow")
def group_allow(
    group: str = typer.Argument(...),
    nodes: bool | None = typer.Option(None, "--nodes/--no-nodes"),
    slices: bool | None = typer.Option(None, "--slices/--no-slices"),
    url: str | None = IdentityUrl,
) -> None:
    """Whether a group may have nodes and slices (operators)."""

    def body() -> None:
        with identity(url) as client:
            payload = {"allow_nodes": nodes, "allow_slices": slices}
            path = f"/api/v1/groups/{_group_id(client, group)}/allow"
            found = checked(client.put(path, json=payload))
        out.print(_table("group", GROUP_COLUMNS, [_group_row(found)]))

    run(body)


@group_app.command("quota")
def group_quota(
    group: str = typer.Argument(...),
    slivers: int | None = typer.Option(None, "--slivers", min=0),
    memory_mb: int | None = typer.Option(None, "--memory-mb", min=0),
    disk_mb: int | None = typer.Option(None, "--disk-mb", min=0),
    images: int | None = typer.Option(None, "--images", min=0),
    unlimited: list[str] = typer.Option([], "--unlimited", help="Lift a quota (slivers, ...)."),
    url: str | None = IdentityUrl,
) -> None:
    """Set a group's quotas (operators); those not named stay."""

    def body() -> None:
        given = {"slivers": slivers, "memory_mb": memory_mb, "disk_mb": disk_mb, "images": images}
        payload: dict[str, int | None] = {k: v for k, v in given.items() if v is not None}
        payload.update({name: None for name in unlimited})
        with identity(url) as client:
            path = f"/api/v1/groups/{_group_id(client, group)}/quotas"
            found = checked(client.put(path, json=payload))
        out.print(_table("group", GROUP_COLUMNS, [_group_row(found)]))

    run(body)


# --- tokens --------------------------------------------------------------------------------
TOKEN_COLUMNS = ("id", "kind", "name", "scopes", "expires", "last used", "revoked")


def _token_row(t: dict[str, Any]) -> list[Any]:
    return [
        t["id"],
        t["kind"],
        t["name"],
        ", ".join(t["scopes"] or []),
        t["expires_at"][:19],
        (t["last_used_at"] or "")[:19],
        (t["revoked_at"] or "")[:19],
    ]


@token_app.command("create")
def token_create(
    name: str = typer.Argument(..., help="What the token is for."),
    scope: list[str] = typer.Option(..., "--scope", help="An action it may take (repeat)."),
    days: int = typer.Option(90, "--days", min=1, max=365),
    account: str | None = typer.Option(None, "--account", help="A tool's login (operators)."),
    url: str | None = IdentityUrl,
) -> None:
    """Make an API token; it is printed this once (set GUIFICLOUD_TOKEN to use it)."""

    def body() -> None:
        with identity(url) as client:
            payload: dict[str, Any] = {"name": name, "scopes": scope, "expires_in_days": days}
            if account:
                payload["account_id"] = _account_id(client, account)
            made = checked(client.post("/api/v1/tokens", json=payload), 201)
        err.print(f"token {made['id']} (shown once; stored only as a hash):")
        typer.echo(made["token"])

    run(body)


@token_app.command("list")
def token_list(
    account: str | None = typer.Option(None, "--account", help="Another account (operators)."),
    url: str | None = IdentityUrl,
) -> None:
    """Your API tokens and login sessions."""

    def body() -> None:
        with identity(url) as client:
            params = {"account_id": _account_id(client, account)} if account else {}
            rows = [_token_row(t) for t in checked(client.get("/api/v1/tokens", params=params))]
        out.print(_table(f"tokens ({len(rows)})", TOKEN_COLUMNS, rows))

    run(body)


@token_app.command("revoke")
def token_revoke(token_id: str = typer.Argument(...), url: str | None = IdentityUrl) -> None:
    """Revoke a token: no new access token from it (those made stay valid at most their
    lifetime)."""

    def body() -> None:
        with identity(url) as client:
            checked(client.delete(f"/api/v1/tokens/{token_id}"), 204)
        out.print(f"token {token_id} revoked", highlight=False)

    run(body)


def mount(app: typer.Typer) -> None:
    """Put these commands, and the identity service's own (``guificloud identity …``), on
    the main command line."""
    from guificloud_identity.cli import app as identity_app

    app.command("login")(login)
    app.command("logout")(logout)
    app.command("whoami")(whoami)
    app.add_typer(group_app, name="group")
    app.add_typer(token_app, name="token")
    app.add_typer(identity_app, name="identity", help="The identity service: serve, bootstrap.")
