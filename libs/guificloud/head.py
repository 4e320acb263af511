"""``HEAD`` on every ``GET`` route of a service (FastAPI routes answer it with 405).

A ``HEAD`` request is handled as the ``GET`` it mirrors, and the body is dropped: status and
headers (``Content-Length``, ``ETag``, ``Link``, ``X-Next-Cursor``...) are the ``GET``'s, so a
client can check a record or a page without fetching it. The server still sees the request
as ``HEAD`` (the scope is copied, not changed), so it sends no body either. The copy
carries :data:`HEAD_MARK`, so a ``GET`` that changes something (a box's config issues a new
token) can refuse to run for a ``HEAD`` (:func:`is_head`).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEAD_MARK = "guificloud.head"


def is_head(request: Request) -> bool:
    """Whether ``request`` is a ``HEAD`` answered as its ``GET``."""
    return bool(request.scope.get(HEAD_MARK))


class HeadAsGet:
    """ASGI middleware: answer ``HEAD`` as ``GET`` without the body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET", HEAD_MARK: True}, receive, without_body)
