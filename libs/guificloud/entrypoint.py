"""The command line every service shares: ``python -m guificloud_<service> [serve|migrate]``."""

from __future__ import annotations

from collections.abc import Callable

import typer

from guificloud.aio import run
from guificloud.runtime import ServiceDefinition, migrate_only, serve
from guificloud.settings import ServiceSettings


def service_cli(
    definition: ServiceDefinition, settings_factory: Callable[..., ServiceSettings]
) -> typer.Typer:
    app = typer.Typer(add_completion=False, help=f"The {definition.name} service of guifi-cloud.")

    @app.command("serve")
    def serve_cmd(
        host: str | None = typer.Option(None, help="Address to listen on."),
        port: int | None = typer.Option(None, help="Port to listen on."),
    ) -> None:
        """Run migrations, then serve the HTTP API and the event consumers."""
        overrides = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
        run(serve(definition, settings_factory(**overrides)))

    @app.command("migrate")
    def migrate_cmd() -> None:
        """Apply the service's migrations and exit."""
        run(migrate_only(definition, settings_factory()))

    return app
