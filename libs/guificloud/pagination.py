"""Keyset (cursor) pagination of every service's lists: a page starts after the last row of
the previous one, so a deep page costs what the first does.

The cursor is opaque to clients: the sort key of the last row, base64url-encoded JSON. The
next page is named twice: ``Link: <...>; rel="next"`` (the same query with the new cursor)
for clients that follow links, and ``X-Next-Cursor`` for those that build their own URLs.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, DateTime, Select, and_, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import URL

from guificloud.errors import InvalidQuery

LINK_HEADER = "Link"
NEXT_CURSOR_HEADER = "X-Next-Cursor"
NOT_OURS = "not a cursor this API gave out"


@dataclass(frozen=True)
class Page:
    items: list[Any]
    next_cursor: str | None


def encode_cursor(values: Sequence[Any]) -> str:
    raw = json.dumps([v if isinstance(v, int | float) else str(v) for v in values])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, size: int) -> list[Any]:
    """The sort key a cursor holds; a cursor that was not ours is a 422 on ``cursor``."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidQuery(NOT_OURS, field="cursor") from exc
    if not isinstance(values, list) or len(values) != size:
        raise InvalidQuery(NOT_OURS, field="cursor")
    return values


def next_page_headers(url: URL, cursor: str | None) -> dict[str, str]:
    """The headers naming the next page (none on the last page)."""
    if cursor is None:
        return {}
    return {
        LINK_HEADER: f'<{url.include_query_params(cursor=cursor)}>; rel="next"',
        NEXT_CURSOR_HEADER: cursor,
    }


async def page(
    session: AsyncSession,
    stmt: Select[Any],
    keys: tuple[Any, Any],
    where: Sequence[ColumnElement[bool]] = (),
    *,
    limit: int,
    cursor: str | None,
) -> Page:
    """One page of ``stmt`` ordered by ``keys`` (a column, then the rows' uuid ``id``): the
    rows after the cursor's key, and the cursor of the next page."""
    conditions = list(where)
    if cursor is not None:
        first, last_id = decode_cursor(cursor, 2)
        try:
            after = (_key_value(keys[0], first), UUID(str(last_id)))
        except ValueError as exc:
            raise InvalidQuery(NOT_OURS, field="cursor") from exc
        conditions.append(tuple_(*keys) > tuple_(*after))
    stmt = stmt.where(and_(True, *conditions)).order_by(*keys).limit(limit + 1)
    rows = list((await session.scalars(stmt)).all())
    if len(rows) <= limit:
        return Page(rows, None)
    rows = rows[:limit]
    tail = rows[-1]
    return Page(rows, encode_cursor([_key_of(tail, keys[0]), str(tail.id)]))


def _key_of(row: Any, column: Any) -> Any:
    value = getattr(row, column.key)
    return value.isoformat() if isinstance(value, datetime) else value


def _key_value(column: Any, raw: Any) -> Any:
    if isinstance(column.type, DateTime):
        return datetime.fromisoformat(str(raw))
    return str(raw)
