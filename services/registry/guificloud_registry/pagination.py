"""Keyset (cursor) pagination: a page starts after the last row of the previous one, so a
deep page costs what the first does. The cursor is opaque to clients: the sort key of the
last row, base64url-encoded JSON."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from typing import Any

from starlette.datastructures import URL

from guificloud_registry.errors import InvalidQuery

LINK_HEADER = "Link"


def encode_cursor(values: Sequence[Any]) -> str:
    raw = json.dumps([str(v) if not isinstance(v, int | float) else v for v in values])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, size: int) -> list[Any]:
    """The sort key a cursor holds; a cursor that was not ours is a 422 on ``cursor``."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidQuery("not a cursor this API gave out", field="cursor") from exc
    if not isinstance(values, list) or len(values) != size:
        raise InvalidQuery("not a cursor this API gave out", field="cursor")
    return values


def next_link(url: URL, cursor: str) -> str:
    """``Link`` header value of the next page: the same query with the new cursor."""
    return f'<{url.include_query_params(cursor=cursor)}>; rel="next"'
