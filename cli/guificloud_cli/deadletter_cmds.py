"""``guificloud deadletters list|show|replay|discard``: a service's dead letters.

    guificloud deadletters list --service provisioner
    guificloud deadletters show 42 --service provisioner
    guificloud deadletters replay 42 --service provisioner
    guificloud deadletters replay --all --durable provisioner-devices --service provisioner
    guificloud deadletters discard 42 --service provisioner

Each service answers for its own consumers. Its URL: ``--url``, else
``GUIFICLOUD_<SERVICE>_URL`` (as the other commands read it), else the local default port.
Operators only: an operator's stored login (``guificloud login``), or the admin token from an
owner-only file (``--admin-token-file``; ``guificloud dev`` keeps one in
``.guificloud/admin-token``) or ``GUIFICLOUD_ADMIN_TOKEN``, never from the command line.
A replay of one already handled has no second effect, but a replay retried after a lost
answer says 404: the first one was done.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Any

import httpx
import typer
from rich.console import Console

from guificloud.credentials import caller_auth
from guificloud.retries import RetryingTransport
from guificloud.secret_files import AdminTokenFile
from guificloud.settings import DEFAULT_PORTS
from guificloud.tls import env_ca, verify
from guificloud_cli.output import Output, OutputOption, show
from guificloud_cli.registry_cmds import Failed, checked, run

PATH = "/api/v1/deadletters"


class Service(StrEnum):
    registry = "registry"
    provisioner = "provisioner"
    monitor = "monitor"
    imagestore = "imagestore"


deadletter_app = typer.Typer(
    no_args_is_help=True,
    help="Messages a consumer could never handle: list, show, replay, discard.",
)

ServiceOpt = typer.Option(..., "--service", help="Whose dead letters.")
UrlOpt = typer.Option(
    None, "--url", help="The service's URL (default: GUIFICLOUD_<SERVICE>_URL, else local)."
)
DurableOpt = typer.Option(None, "--durable", help="Only this consumer's.")
SubjectOpt = typer.Option(None, "--subject", help="Only this original subject (wildcards ok).")

out = Console(soft_wrap=False)
err = Console(stderr=True)


def service_url(service: Service, url: str | None) -> str:
    if url:
        return url
    return os.environ.get(
        f"GUIFICLOUD_{service.value.upper()}_URL",
        f"http://127.0.0.1:{DEFAULT_PORTS[service.value]}",
    )


@contextmanager
def service_client(
    service: Service, url: str | None, token_file: Path | None
) -> Iterator[httpx.Client]:
    """A client with an operator's login or the admin token, retrying while the service is
    briefly unreachable."""
    auth = caller_auth(token_file)
    if auth is None:
        raise Failed(
            "operators only: log in (guificloud login), or give the admin token "
            "(--admin-token-file or GUIFICLOUD_ADMIN_TOKEN)"
        )
    base = service_url(service, url)
    with httpx.Client(
        base_url=base.rstrip("/"),
        timeout=30.0,
        auth=auth,
        transport=RetryingTransport(verify=verify(env_ca())),
    ) as client:
        try:
            yield client
        except httpx.HTTPError as exc:
            raise Failed(f"{service.value} unreachable at {base}: {exc}") from exc


COLUMNS = ("seq", "when", "durable", "subject", "event", "reason")


def _row(d: Mapping[str, Any]) -> Sequence[Any]:
    when = (d.get("dead_lettered_at") or "")[:19].replace("T", " ")
    return (d["seq"], when, d["durable"], d["subject"], d.get("event_type") or "", d["reason"])


@deadletter_app.command("list")
def list_cmd(
    service: Service = ServiceOpt,
    durable: str | None = DurableOpt,
    subject: str | None = SubjectOpt,
    limit: int = typer.Option(50, "--limit", min=1, max=500, help="Rows per page."),
    every: bool = typer.Option(False, "--all", help="Follow the next links to the last page."),
    output: Output | None = OutputOption,
    url: str | None = UrlOpt,
    token_file: Path | None = AdminTokenFile,
) -> None:
    """The service's dead letters, oldest first."""

    def body() -> None:
        params = {"durable": durable, "subject": subject, "limit": limit}
        rows: list[dict[str, Any]] = []
        with service_client(service, url, token_file) as client:
            response = client.get(PATH, params={k: v for k, v in params.items() if v})
            while True:
                rows.extend(checked(response))
                link = response.links.get("next", {}).get("url")
                if not link or not every:
                    if link:
                        err.print("[dim]more rows: --all to list them all[/dim]")
                    break
                response = client.get(link)
        show(
            rows,
            COLUMNS,
            _row,
            title=f"dead letters of {service.value} ({len(rows)})",
            output=output,
        )

    run(body)


SeqArg = typer.Argument(..., min=1, help="The dead letter's sequence (see list).")


@deadletter_app.command("show")
def show_cmd(
    seq: int = SeqArg,
    service: Service = ServiceOpt,
    url: str | None = UrlOpt,
    token_file: Path | None = AdminTokenFile,
) -> None:
    """One dead letter with its reason and the message as received."""

    def body() -> None:
        with service_client(service, url, token_file) as client:
            letter = checked(client.get(f"{PATH}/{seq}"))
        payload = letter.pop("payload")
        for key, value in letter.items():
            out.print(f"[bold]{key}[/bold]: {'' if value is None else value}", highlight=False)
        try:
            payload = json.dumps(json.loads(payload), indent=2)
        except ValueError:
            pass
        out.print("[bold]payload[/bold]:")
        out.print(payload, highlight=False, markup=False)

    run(body)


@deadletter_app.command("replay")
def replay_cmd(
    seq: int | None = typer.Argument(None, min=1, help="The dead letter's sequence."),
    every: bool = typer.Option(False, "--all", help="Every dead letter (of --durable)."),
    durable: str | None = DurableOpt,
    subject: str | None = SubjectOpt,
    service: Service = ServiceOpt,
    url: str | None = UrlOpt,
    token_file: Path | None = AdminTokenFile,
) -> None:
    """Publish dead letters again on their original subjects, once their cause is fixed.

    A consumer that already handled an event skips it: a replay has no second effect."""
    if (seq is None) == (not every) or (seq is not None and (durable or subject)):
        raise typer.BadParameter("give a sequence, or --all (with --durable, --subject)")

    def body() -> None:
        with service_client(service, url, token_file) as client:
            if seq is not None:
                done = checked(client.post(f"{PATH}/{seq}/replay"))
            else:
                params = {k: v for k, v in {"durable": durable, "subject": subject}.items() if v}
                done = checked(client.post(f"{PATH}/replay", params=params))
        replayed = done["replayed"]
        out.print(f"replayed {len(replayed)}: {' '.join(str(s) for s in replayed)}".rstrip(": "))

    run(body)


@deadletter_app.command("discard")
def discard_cmd(
    seq: int = SeqArg,
    service: Service = ServiceOpt,
    url: str | None = UrlOpt,
    token_file: Path | None = AdminTokenFile,
) -> None:
    """Remove a dead letter for good (it is not replayed)."""

    def body() -> None:
        with service_client(service, url, token_file) as client:
            checked(client.delete(f"{PATH}/{seq}"), 204)
        out.print(f"discarded {seq}")

    run(body)
