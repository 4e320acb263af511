"""The image store's migrations go up to head, down a step and up again on PostgreSQL."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import Connection

from guificloud.db import migrations
from guificloud.db.engine import make_engine

pytestmark = pytest.mark.integration

SCRIPTS = "guificloud_imagestore:migrations"
USAGE_TABLES = {"slice_usage", "sliver_usage"}


def tables(conn: Connection) -> set[str]:
    rows = conn.execute(
        text("SELECT table_name FROM information_schema.tables WHERE table_schema = 'imagestore'")
    )
    return {r[0] for r in rows}


async def test_usage_tables_come_and_go_with_migration_0003(database_url: str) -> None:
    engine = make_engine(database_url, pool_size=1)
    cfg = migrations.alembic_config(SCRIPTS, "imagestore")

    def downgrade(conn: Connection) -> None:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0002")

    try:
        await migrations.upgrade(engine, SCRIPTS, "imagestore")
        async with engine.connect() as conn:
            assert USAGE_TABLES <= await conn.run_sync(tables)
        async with engine.begin() as conn:
            await conn.run_sync(downgrade)
        async with engine.connect() as conn:
            left = await conn.run_sync(tables)
        assert not USAGE_TABLES & left and "box_usage" in left
        await migrations.upgrade(engine, SCRIPTS, "imagestore")
        assert await migrations.is_current(engine, SCRIPTS, "imagestore")
    finally:
        await engine.dispose()
