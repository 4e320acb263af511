"""What every request is screened for before a route sees it: its size, and text PostgreSQL
cannot store or JSON cannot say.

- A body may be at most ``BODY_MAX_BYTES`` (1 MiB): a declared ``Content-Length`` over it,
  or a streamed (chunked) body that grows over it, gets 413 before anything is parsed.
  Routes that take large bodies (CNML import, image uploads) stream them and enforce
  their own documented limits; they say so with :func:`allow_large_body` before reading.
- A query string with a NUL character gets 422 naming the parameter.
- A JSON body is parsed once here: malformed JSON or UTF-8, ``NaN``/``Infinity`` (or a
  number too large for a double), and strings with NUL or lone surrogates get 422 naming
  the field. PostgreSQL refuses NUL in text and JSON has no NaN, so each of these would
  otherwise end as a 500 somewhere deeper.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

BODY_MAX_BYTES = 1024 * 1024
SCOPE_KEY = "guificloud.body_limit"

Loc = list[str | int]


@dataclass
class _Limit:
    max_bytes: int | None


class BodyTooLarge(HTTPException):
    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"the request body is larger than {max_bytes} bytes")


def allow_large_body(request: Request) -> None:
    """Lift the 1 MiB limit for this request: the route streams its body and enforces its
    own documented limit. Call it before reading the body."""
    limit = request.scope.get(SCOPE_KEY)
    if isinstance(limit, _Limit):
        limit.max_bytes = None


class RequestGuard:
    """Plain ASGI middleware (see the module docstring)."""

    def __init__(self, app: ASGIApp, max_bytes: int = BODY_MAX_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        problem = _query_problem(scope.get("query_string", b""))
        if problem is not None:
            await _refuse(scope, receive, send, [problem])
            return
        limit = _Limit(self.max_bytes)
        scope[SCOPE_KEY] = limit
        headers = Headers(scope=scope)
        declared = _content_length(headers)
        if _is_json(headers.get("content-type", "")):
            await self._json(scope, receive, send, declared)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            if limit.max_bytes is not None and declared is not None and declared > limit.max_bytes:
                raise BodyTooLarge(limit.max_bytes)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if limit.max_bytes is not None and received > limit.max_bytes:
                    raise BodyTooLarge(limit.max_bytes)
            return message

        try:
            await self.app(scope, limited, send)
        except BodyTooLarge as exc:  # raised where no route turned it into a response
            await _too_large(scope, receive, send, exc)

    async def _json(self, scope: Scope, receive: Receive, send: Send, declared: int | None) -> None:
        """Read the whole (small) JSON body, screen it, then hand it on unchanged."""
        if declared is not None and declared > self.max_bytes:
            await _too_large(scope, receive, send, BodyTooLarge(self.max_bytes))
            return
        chunks: list[bytes] = []
        size = 0
        tail: Message | None = None
        while True:
            message = await receive()
            if message["type"] != "http.request":
                tail = message  # the client went away: let the route see that
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_bytes:
                await _too_large(scope, receive, send, BodyTooLarge(self.max_bytes))
                return
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        problem = _json_problem(body) if body and tail is None else None
        if problem is not None:
            await _refuse(scope, receive, send, [problem])
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return tail or {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _content_length(headers: Headers) -> int | None:
    value = headers.get("content-length", "")
    return int(value) if value.isdigit() else None


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def _error(loc: Loc, msg: str, kind: str) -> dict[str, Any]:
    return {"type": kind, "loc": loc, "msg": msg}


_NUL = "must not contain NUL (\\u0000) characters"


def _query_problem(query_string: bytes) -> dict[str, Any] | None:
    for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            return _error(["query", name.replace("\x00", "")], _NUL, "string_nul")
    return None


class _NonFinite(float):
    """What ``NaN``, ``Infinity`` and overflowing numbers parse to, found by the walk."""


def _parse_float(text: str) -> float:
    value = float(text)
    return value if math.isfinite(value) else _NonFinite(value)


def _json_problem(body: bytes) -> dict[str, Any] | None:
    try:
        document = json.loads(
            body.decode("utf-8"), parse_float=_parse_float, parse_constant=_NonFinite
        )
    except UnicodeDecodeError as exc:
        return _error(["body"], f"the body is not valid UTF-8: {exc.reason}", "json_invalid")
    except json.JSONDecodeError as exc:
        return _error(["body"], f"JSON decode error: {exc.msg} at {exc.pos}", "json_invalid")
    except (ValueError, RecursionError) as exc:  # integers past 4300 digits, deep nesting
        return _error(["body"], f"JSON decode error: {exc}", "json_invalid")
    return _walk(document)


def _walk(document: Any) -> dict[str, Any] | None:
    """The first value JSON or PostgreSQL cannot hold, with where it is (no recursion)."""
    stack: list[tuple[Loc, Any]] = [(["body"], document)]
    while stack:
        loc, value = stack.pop()
        if isinstance(value, _NonFinite):
            return _error(loc, "must be a finite number (no NaN or Infinity)", "finite_number")
        if isinstance(value, str):
            problem = _text_problem(value)
            if problem is not None:
                return _error(loc, *problem)
        elif isinstance(value, dict):
            for key, item in value.items():
                problem = _text_problem(key)
                if problem is not None:
                    return _error(loc, f"a key {problem[0]}", problem[1])
                stack.append(([*loc, key], item))
        elif isinstance(value, list):
            stack.extend(([*loc, i], item) for i, item in enumerate(value))
    return None


def _text_problem(text: str) -> tuple[str, str] | None:
    """Why PostgreSQL could not store ``text`` (message and error type), if it could not."""
    if "\x00" in text:
        return _NUL, "string_nul"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "must be valid Unicode (no lone surrogates)", "string_unicode"
    return None


async def _refuse(scope: Scope, receive: Receive, send: Send, errors: list[dict[str, Any]]) -> None:
    await JSONResponse({"detail": errors}, status_code=422)(scope, receive, send)


async def _too_large(scope: Scope, receive: Receive, send: Send, exc: BodyTooLarge) -> None:
    await JSONResponse({"detail": exc.detail}, status_code=413)(scope, receive, send)
