"""Commands of ``python -m guificloud_imagestore`` beyond ``serve`` and ``migrate``."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

import typer

from guificloud.key_names import DISTRO_NAME
from guificloud.settings import DEFAULT_PORTS
from guificloud_imagestore.schemas import Arch
from guificloud_imagestore.seed import SeedError, seed_distro

ARCHES = get_args(Arch)


def add_seed_command(app: typer.Typer) -> typer.Typer:
    @app.command("seed-distro")
    def seed_distro_cmd(
        url: str = typer.Option(
            f"http://127.0.0.1:{DEFAULT_PORTS['imagestore']}",
            envvar="GUIFICLOUD_IMAGESTORE_URL",
            help="The running image store.",
        ),
        version: str = typer.Option("1.0.0", help="Distro version to publish."),
        arch: str = typer.Option("amd64", help=f"One of {', '.join(ARCHES)}."),
        channel: str = typer.Option("stable", help="Channel to publish on."),
        wait: float = typer.Option(30.0, help="Seconds to wait for the store to be ready."),
        data_dir: Path = typer.Option(
            Path(".guificloud"),
            envvar="GUIFICLOUD_DATA_DIR",
            help="Holds the development publisher key (imagestore/dev-publisher.key).",
        ),
        admin_token: str = typer.Option(
            "dev-admin-token",
            envvar="GUIFICLOUD_ADMIN_TOKEN",
            help="The store's admin token, to have it trust the development key.",
        ),
    ) -> None:
        """Upload the Guifi-Community-Distro seed image, unless that version is there already,
        signed with a development key the store is told to trust for the distro's name."""
        if arch not in ARCHES:
            raise typer.BadParameter(f"must be one of {', '.join(ARCHES)}", param_hint="--arch")
        try:
            seeded = seed_distro(
                url,
                version=version,
                arch=arch,
                key_file=data_dir / "imagestore" / "dev-publisher.key",
                admin_token=admin_token,
                channel=channel,
                wait_s=wait,
            )
        except SeedError as exc:
            typer.echo(f"seed-distro failed: {exc}", err=True)
            raise typer.Exit(1) from exc
        image = seeded.image
        what = "published" if seeded.created else "already published, left as it is"
        typer.echo(
            f"{DISTRO_NAME} {version} ({arch}) {what}: "
            f"id={image['id']} digest={image['digest']} size={image['size']}"
        )

    return app
