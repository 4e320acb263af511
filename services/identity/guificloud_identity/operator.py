"""The first operator of a new deployment: nobody can create it through the API (creating
members is for operators), so it is made directly in the database, once.

``guificloud identity bootstrap-operator`` does it for any deployment; ``guificloud dev``
calls :func:`ensure_first_operator`, which keeps the credentials in a file of the data
folder that only its owner may read.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from sqlalchemy import text

from guificloud.db import migrations
from guificloud.db.engine import make_engine, make_session_factory
from guificloud.db.uow import UnitOfWork
from guificloud_identity.commands.accounts import create_member, operator_exists
from guificloud_identity.models import SCHEMA, messaging
from guificloud_identity.schemas import MemberIn
from guificloud_identity.settings import IdentitySettings

BOOTSTRAP_LOCK = 0x6F70_6572
MIGRATIONS = "guificloud_identity:migrations"


async def bootstrap_operator(
    settings: IdentitySettings, *, login: str = "operator", password: str | None = None
) -> str | None:
    """Create the operator ``login`` unless an operator exists. Returns its password (the
    one given, or a new random one), or None when there was one already. Its creation event
    goes out through the outbox when the service runs."""
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        await migrations.upgrade(engine, MIGRATIONS, settings.db_schema)
        async with UnitOfWork(make_session_factory(engine), messaging, source=SCHEMA) as uow:
            lock = text("SELECT pg_advisory_xact_lock(:k)")
            await uow.session.execute(lock, {"k": BOOTSTRAP_LOCK})
            if await operator_exists(uow):
                return None
            password = password or secrets.token_urlsafe(18)
            data = MemberIn.model_validate(
                {
                    "login": login,
                    "display_name": "Operator",
                    "password": password,
                    "is_operator": True,
                }
            )
            await create_member(uow, None, data)
        return password
    finally:
        await engine.dispose()


def credentials_path(settings: IdentitySettings) -> Path:
    return settings.data_dir / "identity" / "operator.json"


def write_private(path: Path, content: str) -> None:
    """Write ``content`` readable by its owner only, from the first byte."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        os.fchmod(f.fileno(), 0o600)
        f.write(content)


async def ensure_first_operator(settings: IdentitySettings, *, login: str = "operator") -> bool:
    """Idempotent: make the first operator unless one exists, and write its credentials to
    :func:`credentials_path` (mode 0600). True when it made them (the caller may then print
    the path, once)."""
    password = await bootstrap_operator(settings, login=login)
    if password is None:
        return False
    credentials = {"login": login, "password": password, "identity_url": settings.base_url}
    write_private(credentials_path(settings), json.dumps(credentials, indent=2) + "\n")
    return True
