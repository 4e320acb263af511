"""``python -m guificloud_identity`` (also ``guificloud identity``): serve, migrate, and the
two things done straight on the database: the first operator, and a key rotation."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from guificloud.aio import run
from guificloud.db.engine import make_engine, make_session_factory
from guificloud.db.uow import UnitOfWork
from guificloud.entrypoint import service_cli
from guificloud.events.identity import KeyRotated
from guificloud_identity.models import SCHEMA, messaging
from guificloud_identity.operator import bootstrap_operator
from guificloud_identity.service import DEFINITION
from guificloud_identity.settings import IdentitySettings
from guificloud_identity.signing_keys import KeyStore

PASSWORD_ENV = "GUIFICLOUD_OPERATOR_PASSWORD"

app = service_cli(DEFINITION)


@app.command("bootstrap-operator")
def bootstrap_operator_cmd(
    login: str = typer.Option("operator", help="The operator's login."),
    password_file: Path | None = typer.Option(
        None,
        "--password-file",
        help=f"File holding the password (else ${PASSWORD_ENV}, else a new random one, "
        "printed once).",
    ),
) -> None:
    """Create the first operator, unless one exists (then nothing changes)."""
    password = password_file.read_text().strip() if password_file else os.environ.get(PASSWORD_ENV)
    made = run(bootstrap_operator(IdentitySettings(), login=login, password=password or None))
    if made is None:
        typer.echo("an operator exists already: nothing done", err=True)
        raise typer.Exit(0)
    typer.echo(f"operator {login} created", err=True)
    if not password:
        typer.echo(made)  # printed this once; it is stored only as a hash


async def _rotate(settings: IdentitySettings) -> str:
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        async with UnitOfWork(make_session_factory(engine), messaging, source=SCHEMA) as uow:
            key = await KeyStore(settings).rotate(uow.session)
            uow.emit(KeyRotated(kid=key.kid))
            await uow.commit()
            return key.kid
    finally:
        await engine.dispose()


@app.command("rotate-key")
def rotate_key_cmd() -> None:
    """Sign with a new key from now on (the old one stays published until its tokens
    expire); the same as ``POST /api/v1/auth/keys/rotate``."""
    typer.echo(run(_rotate(IdentitySettings())))
