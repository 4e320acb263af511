"""The command line every service shares: ``python -m guificloud_<service> [serve|migrate]``."""

from __future__ import annotations

from typing import Any

import typer

from guificloud.aio import run
from guificloud.runtime import ServiceDefinition, migrate_only, serve


def service_cli(definition: ServiceDefinition[Any, Any]) -> typer.Typer:
    app = typer.Typer(add_completion=False, help=f"The {definition.name} service of guifi-cloud.")

    @app.command("serve")
    def serve_cmd(
        host: str | None = typer.Option(None, help="Address to listen on."),
        port: int | None = typer.Option(None, help="Port to listen on."),
    ) -> None:
        """Run migrations, then serve the HTTP API and the event consumers."""
        overrides = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
        run(serve(definition, definition.settings(**overrides)))

    @app.command("migrate")
    def migrate_cmd() -> None:
        """Apply the service's migrations and exit."""
        run(migrate_only(definition, definition.settings()))

    return app
