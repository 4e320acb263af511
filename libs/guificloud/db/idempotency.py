"""The ``idempotency_keys`` table every service with creating routes keeps in its own schema.

One row per (caller, route, key): the hash of the request that used the key first and the
response it got, written in the same transaction as what the request created (see
:mod:`guificloud.idempotency`). The primary key is what makes a concurrent retry wait for the
first request instead of creating a second time.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    Index,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB

TABLE = "idempotency_keys"


def define_idempotency_table(metadata: MetaData) -> Table:
    return Table(
        TABLE,
        metadata,
        Column("caller", String(200), primary_key=True),
        Column("route", String(300), primary_key=True),
        Column("key", String(255), primary_key=True),
        Column("request_hash", String(64), nullable=False),
        Column("status_code", SmallInteger),
        Column("headers", JSONB),
        Column("body", LargeBinary),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("expires_at", DateTime(timezone=True), nullable=False),
        Index(f"ix_{TABLE}_expires_at", "expires_at"),
    )


def idempotency_table(metadata: MetaData) -> Table:
    """The table :func:`define_idempotency_table` put into a service's ``metadata``."""
    name = f"{metadata.schema}.{TABLE}" if metadata.schema else TABLE
    try:
        return metadata.tables[name]
    except KeyError:
        raise LookupError(
            f"{name} is not in the service's metadata: call define_idempotency_table(metadata)"
        ) from None


def create_idempotency_table(schema: str) -> None:
    """For a service's migration. A later change of shape is a new helper, as for the outbox."""
    from alembic import op

    define_idempotency_table(MetaData(schema=schema)).create(op.get_bind())


def drop_idempotency_table(schema: str) -> None:
    from alembic import op

    op.drop_table(TABLE, schema=schema)
