"""The ``guificloud`` command line.

It imports no service package: ``guificloud dev`` starts each service as a process
(``python -m guificloud_<service>``) and ``guificloud agent …`` becomes the agent's own
command line (``python -m guificloud_agent …``, the same process: signals reach the agent).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import typer

from guificloud.settings import DEFAULT_PORTS
from guificloud_cli.dev.system import DevOptions, run

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="guifi-cloud: the community cloud of Guifi.net.",
)


@app.command()
def dev(
    boxes: int = typer.Option(0, "--boxes", min=0, help="Also run N simulated community boxes."),
    data_dir: Path = typer.Option(
        Path(".guificloud"), envvar="GUIFICLOUD_DATA_DIR", help="Where all data lives."
    ),
    registry_port: int = typer.Option(DEFAULT_PORTS["registry"], envvar="GUIFICLOUD_REGISTRY_PORT"),
    provisioner_port: int = typer.Option(
        DEFAULT_PORTS["provisioner"], envvar="GUIFICLOUD_PROVISIONER_PORT"
    ),
    monitor_port: int = typer.Option(DEFAULT_PORTS["monitor"], envvar="GUIFICLOUD_MONITOR_PORT"),
    imagestore_port: int = typer.Option(
        DEFAULT_PORTS["imagestore"], envvar="GUIFICLOUD_IMAGESTORE_PORT"
    ),
    identity_port: int = typer.Option(DEFAULT_PORTS["identity"], envvar="GUIFICLOUD_IDENTITY_PORT"),
    nats_port: int = typer.Option(4222, envvar="GUIFICLOUD_NATS_PORT"),
    postgres_port: int = typer.Option(
        5433,
        envvar="GUIFICLOUD_POSTGRES_PORT",
        help="5433, so as not to clash with a system PostgreSQL.",
    ),
    heartbeat_interval: float = typer.Option(
        5.0, envvar="GUIFICLOUD_HEARTBEAT_INTERVAL_S", help="Seconds between box heartbeats."
    ),
    seed: bool = typer.Option(True, help="Upload a small Guifi-Community-Distro image."),
    tls: bool = typer.Option(
        False,
        "--tls",
        help="Serve NATS and every service over TLS, with a local CA made once under "
        "<data dir>/tls (trusted by the services and the boxes).",
    ),
) -> None:
    """Start NATS, PostgreSQL and every service (supervised, logs merged); Ctrl-C stops all.

    The first start makes the first operator and prints its password, once (it is kept in
    <data dir>/identity/operator.json, 0600)."""
    opts = DevOptions(
        data_dir=data_dir,
        ports={
            "registry": registry_port,
            "provisioner": provisioner_port,
            "monitor": monitor_port,
            "imagestore": imagestore_port,
            "identity": identity_port,
        },
        nats_port=nats_port,
        postgres_port=postgres_port,
        boxes=boxes,
        heartbeat_interval_s=heartbeat_interval,
        seed=seed,
        tls=tls,
    )
    raise typer.Exit(asyncio.run(run(opts)))


events = typer.Typer(no_args_is_help=True, help="The event catalogue.")
app.add_typer(events, name="events")


@events.command("asyncapi")
def events_asyncapi() -> None:
    """Print the AsyncAPI document of every event and command, generated from the models."""
    from guificloud.events.asyncapi import asyncapi_document

    typer.echo(json.dumps(asyncapi_document(), indent=2))


@app.command(
    "agent",
    add_help_option=False,
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def agent(ctx: typer.Context) -> None:
    """Run box agents, or a fleet of simulated boxes: the agent's own command line."""
    os.execv(sys.executable, [sys.executable, "-m", "guificloud_agent", *ctx.args])


def _mount_resources() -> None:
    """Resource commands over the services' APIs: zones, nodes, devices, CNML, images, slices,
    the distro boxes run; dead letters; logins, members, groups and tokens."""
    from guificloud_cli.deadletter_cmds import deadletter_app
    from guificloud_cli.distro_cmds import distro_app
    from guificloud_cli.identity_cmds import mount as mount_identity
    from guificloud_cli.image_cmds import image_app
    from guificloud_cli.member_cmds import member_app
    from guificloud_cli.registry_cmds import cnml_app, device_app, node_app, zone_app
    from guificloud_cli.slice_cmds import slice_app

    app.add_typer(zone_app, name="zone")
    app.add_typer(node_app, name="node")
    app.add_typer(device_app, name="device")
    app.add_typer(cnml_app, name="cnml")
    app.add_typer(image_app, name="image")
    app.add_typer(slice_app, name="slice")
    app.add_typer(distro_app, name="distro")
    app.add_typer(deadletter_app, name="deadletters")
    app.add_typer(member_app, name="member")
    mount_identity(app)


_mount_resources()
