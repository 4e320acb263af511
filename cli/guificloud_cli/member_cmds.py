"""``guificloud member add|list``: people's accounts on the identity service.

Operators make them; a member then logs in (``guificloud login``) and a group admin gives
them roles (``guificloud group add-member``). The password is read from ``--password-file``,
standard input or a prompt, never from an argument.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from guificloud_cli.identity_cmds import IdentityUrl, identity, out, read_password, run
from guificloud_cli.output import table
from guificloud_cli.registry_cmds import checked

member_app = typer.Typer(no_args_is_help=True, help="Members: people's accounts (operators).")

MEMBER_COLUMNS = ("id", "login", "name", "e-mail", "operator", "disabled")


def _member_row(m: dict[str, Any]) -> list[Any]:
    return [
        m["id"],
        m["login"],
        m["display_name"],
        m.get("email"),
        "yes" if m["is_operator"] else "",
        "yes" if m["disabled"] else "",
    ]


@member_app.command("add")
def member_add(
    login: str = typer.Argument(..., help="Letters, digits, '.', '_' and '-'."),
    name: str = typer.Option(..., "--name", help="The member's name as others see it."),
    email: str | None = typer.Option(None, "--email", help="Contact (shown to few)."),
    operator: bool = typer.Option(False, "--operator", help="An operator (superuser)."),
    password_file: Path | None = typer.Option(
        None, "--password-file", help="Read the password from this file (else stdin, a prompt)."
    ),
    url: str | None = IdentityUrl,
) -> None:
    """Make a member account (operators); they log in with ``guificloud login``."""

    def body() -> None:
        payload = {
            "login": login,
            "display_name": name,
            "email": email,
            "password": read_password(password_file),
            "is_operator": operator,
        }
        with identity(url) as client:
            made = checked(
                client.post("/api/v1/members", json={k: v for k, v in payload.items() if v}),
                201,
            )
        out.print(table("member created", MEMBER_COLUMNS, [_member_row(made)]))

    run(body)


@member_app.command("list")
def member_list(
    login: str | None = typer.Option(None, "--login", help="Only this login."),
    url: str | None = IdentityUrl,
) -> None:
    """Members by login (their e-mail only where you may see it)."""

    def body() -> None:
        with identity(url) as client:
            params = {"login": login} if login else {}
            found = checked(client.get("/api/v1/members", params=params))
        rows = [_member_row(m) for m in found]
        out.print(table(f"members ({len(rows)})", MEMBER_COLUMNS, rows))

    run(body)
