"""How errors look on the wire: ``{"detail": "<message>"}``, or ``{"detail": [...]}`` listing
what is wrong and where it came from (``loc``: ``["body", "name"]``, ``["query", "limit"]``,
``["path", "zone_id"]``, ``["header", "Upload-Offset"]``) when a field is to blame. The input
a validation error echoes is clipped (a 10 MB name is not sent back) and made JSON-safe (no
NaN, no raw bytes)."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict
from starlette.requests import Request
from starlette.routing import compile_path

from guificloud.errors import DomainError

HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
INPUT_MAX_CHARS = 200
"""The most of an input a 422 echoes back."""


class ErrorDetail(BaseModel):
    model_config = ConfigDict(extra="allow")

    loc: list[str | int]
    msg: str
    type: str


class ErrorOut(BaseModel):
    """Every error of every service."""

    model_config = ConfigDict(extra="allow")

    detail: str | list[ErrorDetail]


class _Dropped:
    """An input too large to echo."""


_DROPPED = _Dropped()


def clip(value: Any) -> Any:
    """``value`` as a 422 may echo it: short, JSON-safe; ``_DROPPED`` when too large."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if abs(value) < 2**64 else _clip_text(_digits(value))
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, bytes):
        return _clip_text(value.decode("utf-8", errors="replace"))
    if not isinstance(value, (dict, list, tuple)):
        return _clip_text(str(value))
    try:
        text = json.dumps(value, default=str, allow_nan=False)
    except (ValueError, RecursionError):
        return _DROPPED
    return json.loads(text) if len(text) <= INPUT_MAX_CHARS else _DROPPED


def _digits(value: int) -> str:
    try:
        return str(value)
    except ValueError:  # past Python's 4300 digits
        return f"an integer of {value.bit_length()} bits"


def _clip_text(text: str) -> str:
    return text if len(text) <= INPUT_MAX_CHARS else text[:INPUT_MAX_CHARS] + "…"


def validation_details(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """Pydantic's errors as a 422 lists them, with inputs clipped and contexts as text."""
    details = []
    for error in errors:
        detail: dict[str, Any] = {
            "type": str(error.get("type", "value_error")),
            "loc": [p if isinstance(p, int) else str(p) for p in error.get("loc", ())],
            "msg": str(error.get("msg", "")),
        }
        if "input" in error and (echo := clip(error["input"])) is not _DROPPED:
            detail["input"] = echo
        if error.get("ctx"):
            ctx = {k: v if isinstance(v, int) else clip(str(v)) for k, v in error["ctx"].items()}
            detail["ctx"] = ctx
        details.append(detail)
    return details


def location(request: Request, field: str | None) -> list[str | int]:
    """Where ``field`` came from: the path, the query string, a header, or (by default)
    the body."""
    if field is None or field == "body":
        return ["body"]
    if field in request.path_params:
        return ["path", field]
    if field in request.query_params:
        return ["query", field]
    if field in request.headers:
        return ["header", field]
    return ["body", field]


def domain_detail(request: Request, exc: DomainError) -> str | list[dict[str, Any]]:
    if exc.field is None:
        return exc.message
    return [{"loc": location(request, exc.field), "msg": exc.message, "type": "value_error"}]


def allowed_methods(request: Request) -> list[str]:
    """The ``Allow`` of a 405: every method the OpenAPI document has for this path (the
    router only knows the first route that matched it). A literal path outranks a template
    that also matches it (``/deadletters/replay`` before ``/deadletters/{seq}``)."""
    path = request.url.path
    paths = request.app.openapi().get("paths", {})
    for template, item in sorted(paths.items(), key=lambda entry: entry[0].count("{")):
        if compile_path(template)[0].match(path):
            return sorted(method.upper() for method in item if method in HTTP_METHODS)
    return []
