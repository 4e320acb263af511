"""What a request answers when something unexpected fails, and how that is logged.

A transient failure (database or bus away, deadlock, timeout: see
:func:`guificloud.failures.classify`) is a 503 with ``Retry-After``: the client should try
again, and the service is not broken. Anything else is a 500. Either way the log gets one line
per kind of failure and ten seconds, with ``count=``, and a traceback only for what is not a
known transient failure: an outage must not write a traceback per request.

Plain ASGI, inside the correlation middleware (so lines and answers carry the id) and
outside the routes: the exception never reaches the server, which would log it again.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from guificloud.failures import Failure, classify, describe, kind
from guificloud.logging import Throttle, get_logger

log = get_logger(__name__)

RETRY_AFTER_S = 5
UNAVAILABLE = "temporarily unavailable: a service it depends on cannot be reached; retry later"


class FailureMiddleware:
    def __init__(
        self, app: ASGIApp, *, suspect: Callable[[BaseException], None] | None = None
    ) -> None:
        """``suspect`` is told of each transient failure (the runtime's database watch)."""
        self.app = app
        self._suspect = suspect
        self._throttle = Throttle()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except Exception as exc:  # noqa: BLE001 - answered here, logged once per kind and 10 s
            transient = classify(exc) is Failure.TRANSIENT
            self._log(scope, exc, transient)
            if started:  # too late for a status: the client sees the connection end
                return
            if transient:
                response = JSONResponse(
                    {"detail": UNAVAILABLE},
                    status_code=503,
                    headers={"Retry-After": str(RETRY_AFTER_S)},
                )
            else:
                response = JSONResponse({"detail": "internal error"}, status_code=500)
            await response(scope, receive, send)

    def _log(self, scope: Scope, exc: Exception, transient: bool) -> None:
        if transient and self._suspect is not None:
            self._suspect(exc)
        count = self._throttle.admit((transient, kind(exc)))
        if not count:
            return
        fields = {
            "method": scope.get("method"),
            "path": scope.get("path"),
            "error": describe(exc),
            "count": count,
        }
        if transient:
            log.warning("http.unavailable", **fields)
        else:
            log.error("http.failed", exc_info=exc, **fields)
