"""Input types that refuse what the OpenAPI document says is not there, and are bounded as the
PostgreSQL column that stores them: out-of-range input is a 422 naming the field, never a
database error (``value out of int64 range``: a 500).

Two families, because text and JSON differ:

- ``Int32``, ``Int64`` and ``Number`` are for JSON bodies: a number there is a JSON number
  (strict). Pydantic would otherwise take ``true`` as 1 and ``"7"`` as 7, which the
  document denies; ``JsonString`` does the same for types made from strings.
- ``Int64Param`` is for query, path and header parameters, which always arrive as text.

Narrow them inside the annotation, ``Annotated[Int64, Field(ge=1)]``: with
``x: Int64 = Field(ge=1)`` pydantic lets the annotation's bounds win and ``ge=1`` is lost.
Strings need nothing of the kind: NUL characters and lone surrogates are refused before any
route sees them (:mod:`guificloud.request_guard`).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, Strict
from pydantic_core import PydanticCustomError

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def _json_string(value: Any) -> Any:
    if not isinstance(value, str):
        raise PydanticCustomError("string_type", "Input should be a string")
    return value


JsonString = BeforeValidator(_json_string)
"""Only a JSON string, for types pydantic would also make from a number (IP addresses)."""

Int32 = Annotated[int, Strict(), Field(ge=INT32_MIN, le=INT32_MAX)]
"""An ``INTEGER`` column, from a JSON body."""
Int64 = Annotated[int, Strict(), Field(ge=INT64_MIN, le=INT64_MAX)]
"""A ``BIGINT`` column, from a JSON body."""
Number = Annotated[float, Strict()]
"""A ``DOUBLE PRECISION`` column, from a JSON body (NaN and Infinity never get this far)."""
DECIMAL_INTEGER = re.compile(r"-?[0-9]{1,19}")


def _decimal_integer(value: Any) -> Any:
    """Only digits: pydantic alone would also take ``+0.0``, ``1_000`` or `` 7 ``."""
    if isinstance(value, str) and not DECIMAL_INTEGER.fullmatch(value):
        raise PydanticCustomError("int_parsing", "Input should be a decimal integer")
    return value


Int64Param = Annotated[int, BeforeValidator(_decimal_integer), Field(ge=INT64_MIN, le=INT64_MAX)]
"""A ``BIGINT`` column, from a query, path or header parameter (decimal digits only)."""


def exact_integer_bounds(node: Any) -> Any:
    """Give the integer bounds of an OpenAPI document back their exact values (in place).

    FastAPI's OpenAPI model keeps ``minimum`` and ``maximum`` as floats, and a float turns
    ``2**63 - 1`` into ``2**63``: a document that allowed one more than the column holds."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            if item.get("type") == "integer":
                for key in ("minimum", "maximum"):
                    if key in item:
                        item[key] = _exact(item[key])
            stack.extend(item.values())
    return node


def _exact(bound: float | int) -> int | float:
    for exact in (INT64_MIN, INT64_MAX, INT32_MIN, INT32_MAX):
        if bound == float(exact):
            return exact
    return int(bound) if float(bound).is_integer() else bound
