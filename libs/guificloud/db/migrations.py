"""Alembic driven from code: migrations run at service start-up or by a command, never at import.

A service's ``migrations/env.py`` is two lines: it calls :func:`run_env` with its metadata.
"""

from __future__ import annotations

import zlib
from typing import Any

from alembic import command, context
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine


def alembic_config(script_location: str, schema: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", script_location)
    cfg.attributes["schema"] = schema
    return cfg


def run_env(metadata: MetaData) -> None:
    """Body of every service's ``env.py``: online mode on the connection given by the runner."""
    connection: Connection = context.config.attributes["connection"]
    schema: str = context.config.attributes["schema"]
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table_schema=schema,
        include_schemas=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _lock_key(schema: str) -> int:
    return zlib.crc32(f"guificloud-migrations:{schema}".encode()) & 0x7FFFFFFF


async def upgrade(engine: AsyncEngine, script_location: str, schema: str) -> None:
    """Bring ``schema`` to head; an advisory lock keeps two instances from racing."""
    cfg = alembic_config(script_location, schema)

    def _run(conn: Connection) -> None:
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _lock_key(schema)})
        conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")

    async with engine.begin() as conn:
        await conn.run_sync(_run)


async def is_current(engine: AsyncEngine, script_location: str, schema: str) -> bool:
    """True when the schema is at the head revision (``/readyz`` asks this)."""
    heads = set(ScriptDirectory.from_config(alembic_config(script_location, schema)).get_heads())

    def _current(conn: Connection) -> set[Any]:
        ctx = MigrationContext.configure(conn, opts={"version_table_schema": schema})
        return set(ctx.get_current_heads())

    async with engine.connect() as conn:
        return await conn.run_sync(_current) == heads
