"""accent-insensitive search: ``registry.unaccented(text)``, and the trigram indexes on it.

``unaccent`` (a trusted contrib extension: the embedded server and the postgres image ship
it) is only STABLE, as its dictionary could change; an index needs an IMMUTABLE function, so
``registry.unaccented`` calls it with the dictionary named. Where the extension cannot be
installed the function returns its argument: search then ignores case but not accents.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TRIGRAM_INDEXES = (
    ("zones", "name"),
    ("nodes", "name"),
    ("nodes", "nick"),
    ("devices", "name"),
    ("services", "name"),
)


def _extension_schema(name: str) -> str | None:
    """Install the extension if this server can; the schema it lives in, or None."""
    bind = op.get_bind()
    savepoint = bind.begin_nested()
    try:
        bind.execute(sa.text(f"CREATE EXTENSION IF NOT EXISTS {name}"))
    except sa.exc.DBAPIError:
        savepoint.rollback()
        return None
    savepoint.commit()
    found: str | None = bind.scalar(
        sa.text(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
            " WHERE e.extname = :name"
        ),
        {"name": name},
    )
    return found


def _has_extension(name: str) -> bool:
    return bool(
        op.get_bind().scalar(
            sa.text("SELECT count(*) FROM pg_extension WHERE extname = :name"), {"name": name}
        )
    )


def _trigram_indexes(expression: str) -> None:
    """The name indexes over ``expression`` (``{column}`` in it), where pg_trgm is."""
    if not _has_extension("pg_trgm"):
        return
    for table, column in TRIGRAM_INDEXES:
        name = f"ix_registry_{table}_{column}_trgm"
        op.execute(f"DROP INDEX IF EXISTS registry.{name}")
        op.execute(
            f"CREATE INDEX {name} ON registry.{table} "
            f"USING gin (({expression.format(column=column)}) gin_trgm_ops)"
        )


def upgrade() -> None:
    schema = _extension_schema("unaccent")
    if schema is not None:
        body = f'SELECT "{schema}".unaccent(\'"{schema}".unaccent\'::regdictionary, $1)'
    else:
        body = "SELECT $1"
    op.execute(
        "CREATE OR REPLACE FUNCTION registry.unaccented(text) RETURNS text "
        f"LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$ {body} $$"
    )
    _trigram_indexes("registry.unaccented({column})")


def downgrade() -> None:
    _trigram_indexes("{column}")
    op.execute("DROP FUNCTION IF EXISTS registry.unaccented(text)")
