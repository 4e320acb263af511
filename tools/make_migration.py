"""Autogenerate the next Alembic migration of a service against a throw-away PostgreSQL.

    .venv/bin/python tools/make_migration.py registry "add zone boxes"

Starts the embedded PostgreSQL in a temporary folder, brings the schema to head, compares it
with the service's models and writes the new revision into the service's migrations folder.
Read the result before committing it.
"""

from __future__ import annotations

import asyncio
import importlib
import sys
import tempfile
from pathlib import Path

from alembic import command
from sqlalchemy.engine import Connection

from guificloud.db import migrations
from guificloud.db.engine import make_engine
from guificloud.devservers.ports import free_port
from guificloud.devservers.postgres import PostgresServer


async def generate(service: str, message: str, rev_id: str) -> None:
    importlib.import_module(f"guificloud_{service}.models")
    script_location = f"guificloud_{service}:migrations"
    with tempfile.TemporaryDirectory() as tmp:
        pg = PostgresServer(Path(tmp) / "pg", port=free_port(), fsync=False)
        pg.start()
        try:
            engine = make_engine(pg.url("postgres"))
            await migrations.upgrade(engine, script_location, service)
            cfg = migrations.alembic_config(script_location, service)

            def _revision(conn: Connection) -> None:
                cfg.attributes["connection"] = conn
                command.revision(cfg, message=message, autogenerate=True, rev_id=rev_id)

            async with engine.begin() as conn:
                await conn.run_sync(_revision)
            await engine.dispose()
        finally:
            pg.stop()


if __name__ == "__main__":
    service_name, msg, rev = sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "0001"
    asyncio.run(generate(service_name, msg, rev))
