"""Writing many rows in few round trips, inside the unit of work's transaction: new rows with
PostgreSQL's COPY, changed rows with one pipelined ``executemany`` per set of columns."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from operator import itemgetter
from typing import Any
from uuid import UUID

from sqlalchemy import Table, any_, bindparam, update
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.ext.asyncio import AsyncSession


async def copy_rows(session: AsyncSession, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows`` (all with the same keys) with COPY on the session's own connection."""
    if not rows:
        return
    columns = list(rows[0].keys())
    as_json = [c for c in columns if isinstance(table.c[c].type, JSONB)]
    if as_json:
        rows = [
            {**row, **{c: json.dumps(row[c]) for c in as_json if row[c] is not None}}
            for row in rows
        ]
    records = (
        list(map(itemgetter(*columns), rows))
        if len(columns) > 1
        else [(row[columns[0]],) for row in rows]
    )
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    await raw.driver_connection.copy_records_to_table(  # type: ignore[union-attr]
        table.name, schema_name=table.schema, columns=columns, records=records
    )


async def update_rows(
    session: AsyncSession,
    table: Table,
    changes: Sequence[tuple[UUID, Mapping[str, Any]]],
    *,
    key: str = "id",
    versioned: bool = True,
) -> None:
    """Apply each row's changed columns; rows changing the same columns share a statement."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for row_id, values in changes:
        columns = tuple(sorted(values))
        groups[columns].append({"k_": row_id, **{f"v_{c}": values[c] for c in columns}})
    for columns, params in groups.items():
        stmt = update(table).where(table.c[key] == bindparam("k_"))
        stmt = stmt.values({c: bindparam(f"v_{c}", type_=table.c[c].type) for c in columns})
        if versioned:
            stmt = stmt.values(version=table.c.version + 1)
        await session.execute(stmt.execution_options(synchronize_session=False), params)


def among(column: Any, values: Iterable[Any]) -> Any:
    """``column = ANY(:array)``: one parameter however many values (``IN`` would bind one
    each, and PostgreSQL takes at most 32,767)."""
    return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
