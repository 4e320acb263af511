"""``HEAD`` on every ``GET`` route of a service (FastAPI routes answer it with 405).

A ``HEAD`` request is handled as the ``GET`` it mirrors, and the body is dropped: status and
headers (``Content-Length``, ``ETag``, ``Link``, ``X-Next-Cursor``...) are the ``GET``'s, so a
client can check a record or a page without fetching it. The server still sees the request
as ``HEAD`` (the scope is copied, not changed), so it sends no body either.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


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

        await self.app({**scope, "method": "GET"}, receive, without_body)
