"""``guificloud distro …``: which Guifi-Community-Distro the boxes run (operators).

    guificloud distro assign --box BOX_ID --box OTHER_ID       # the current version
    guificloud distro assign --version 1.1.0 --all

A published distro reaches only boxes that have none (new ones); boxes that run one move
when an operator assigns it here, a few first, the rest once those are ready. It acts as
the stored login (an operator's), or with the admin token (``--admin-token-file``, or
``GUIFICLOUD_ADMIN_TOKEN`` when there is no login).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any
from uuid import UUID

import typer

from guificloud.secret_files import AdminTokenFile
from guificloud_cli.output import Output, OutputOption, show
from guificloud_cli.registry_cmds import checked, run
from guificloud_cli.slice_cmds import ProvisionerUrl, provisioner

distro_app = typer.Typer(no_args_is_help=True, help="The distro boxes run: move them to a version.")


@distro_app.command("assign")
def assign(
    boxes: list[UUID] = typer.Option([], "--box", help="A box to move (repeat for more)."),
    every: bool = typer.Option(False, "--all", help="Every configured box."),
    version: str | None = typer.Option(None, "--version", help="Default: the current one."),
    output: Output | None = OutputOption,
    url: str = ProvisionerUrl,
    token_file: Path | None = AdminTokenFile,
) -> None:
    """Move boxes to a distro version (all or none); each gets the image for its arch."""
    if bool(boxes) == every:
        raise typer.BadParameter("give --box (one or more) or --all", param_hint="--box")

    def body() -> None:
        payload: dict[str, Any] = {"version": version}
        if boxes:
            payload["box_ids"] = [str(b) for b in boxes]
        with provisioner(url, token_file) as client:
            moved = checked(client.post("/api/v1/distros/assign", json=payload))
        columns = ("box", "version", "digest", "changed")
        show(moved, columns, _row, title=f"boxes ({len(moved)})", output=output)

    run(body)


def _row(moved: Mapping[str, Any]) -> list[Any]:
    return [moved["box_id"], moved["version"], moved["digest"], moved["changed"]]
