"""The outbox and inbox tables every service keeps in its own schema.

``outbox``: events written in the same transaction as the change that caused them.
``inbox``: ids of the events a consumer has handled, written in the same transaction as
the handler's effect, so a redelivered event has no second effect.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import BigInteger, Column, DateTime, MetaData, String, Table, Text, func
from sqlalchemy.dialects.postgresql import JSONB, UUID


@dataclass(frozen=True)
class MessagingTables:
    outbox: Table
    inbox: Table


def define_messaging_tables(metadata: MetaData) -> MessagingTables:
    outbox = Table(
        "outbox",
        metadata,
        Column("seq", BigInteger, primary_key=True, autoincrement=True),
        Column("id", UUID(as_uuid=True), nullable=False, unique=True),
        Column("subject", String(255), nullable=False),
        Column("envelope", JSONB, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    inbox = Table(
        "inbox",
        metadata,
        Column("consumer", String(128), primary_key=True),
        Column("event_id", UUID(as_uuid=True), primary_key=True),
        Column("event_type", Text, nullable=False),
        Column("handled_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    return MessagingTables(outbox=outbox, inbox=inbox)


def create_messaging_tables(schema: str) -> None:
    """For a service's first migration: create ``inbox`` and ``outbox`` in ``schema``.

    Existing databases have these shapes: a later change to them is a new helper that every
    service's next migration calls, never an edit of :func:`define_messaging_tables` alone."""
    from alembic import op

    tables = define_messaging_tables(MetaData(schema=schema))
    tables.inbox.create(op.get_bind())
    tables.outbox.create(op.get_bind())


def drop_messaging_tables(schema: str) -> None:
    from alembic import op

    op.drop_table("outbox", schema=schema)
    op.drop_table("inbox", schema=schema)
