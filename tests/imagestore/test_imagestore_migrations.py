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


def owner_columns(conn: Connection) -> set[str]:
    rows = conn.execute(
        text(
            "SELECT table_name || '.' || column_name FROM information_schema.columns "
            "WHERE table_schema = 'imagestore' AND table_name IN ('images', 'uploads')"
        )
    )
    return {r[0] for r in rows} & OWNER_COLUMNS


OWNER_COLUMNS = {"images.group_id", "images.published_by", "uploads.opened_by"}


async def test_groups_and_owners_come_and_go_with_migration_0006(database_url: str) -> None:
    engine = make_engine(database_url, pool_size=1)
    cfg = migrations.alembic_config(SCRIPTS, "imagestore")

    def downgrade(conn: Connection) -> None:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0005")

    try:
        await migrations.upgrade(engine, SCRIPTS, "imagestore")
        async with engine.connect() as conn:
            assert "group_facts" in await conn.run_sync(tables)
            assert await conn.run_sync(owner_columns) == OWNER_COLUMNS
        async with engine.begin() as conn:
            await conn.run_sync(downgrade)
        async with engine.connect() as conn:
            assert "group_facts" not in await conn.run_sync(tables)
            assert await conn.run_sync(owner_columns) == set()
        await migrations.upgrade(engine, SCRIPTS, "imagestore")
        assert await migrations.is_current(engine, SCRIPTS, "imagestore")
    finally:
        await engine.dispose()
