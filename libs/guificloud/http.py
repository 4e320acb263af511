"""What every service's HTTP API shares: health, readiness, errors as 4xx (see
:mod:`guificloud.http_errors`), input screened before routing (see
:mod:`guificloud.request_guard`), correlation ids."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import uuid4

from fastapi import Depends, FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from structlog.contextvars import bind_contextvars, unbind_contextvars

from guificloud.auth.dependencies import install_verifier, require_operator
from guificloud.db.uow import UnitOfWork
from guificloud.errors import DomainError
from guificloud.head import HeadAsGet
from guificloud.http_errors import allowed_methods, domain_detail, validation_details
from guificloud.http_failures import FailureMiddleware
from guificloud.inputs import exact_integer_bounds
from guificloud.openapi_errors import declare_errors
from guificloud.openapi_security import mark_optional_auth
from guificloud.request_guard import RequestGuard
from guificloud.runtime import Runtime

CORRELATION_HEADER = "X-Correlation-Id"


class CorrelationMiddleware:
    """Binds the request's correlation id (``X-Correlation-Id``, or a new one) to every log
    line and event of the request, and echoes it back. Plain ASGI: cheaper than Starlette's
    ``BaseHTTPMiddleware`` on every request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        header = CORRELATION_HEADER.lower().encode()
        given = next((v for k, v in scope["headers"] if k == header), None)
        cid = given.decode("latin-1") if given else str(uuid4())

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (header, cid.encode("latin-1"))]
            await send(message)

        bind_contextvars(correlation_id=cid)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            unbind_contextvars("correlation_id")


def create_base_app(runtime: Runtime[Any, Any], *, title: str, description: str) -> FastAPI:
    app = FastAPI(
        title=title,
        description=description,
        version="1",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
    )
    app.state.runtime = runtime
    install_verifier(app, runtime.verifier)

    app.add_middleware(FailureMiddleware, suspect=lambda exc: runtime.database.suspect(exc))
    app.add_middleware(RequestGuard)
    app.add_middleware(CorrelationMiddleware)  # guard refusals carry the id too
    app.add_middleware(HeadAsGet)

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> JSONResponse:
        return JSONResponse(
            {"detail": domain_detail(request, exc), **exc.details()},
            status_code=exc.status_code,
            headers=exc.headers(),
        )

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": validation_details(exc.errors())}, status_code=422)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if exc.status_code == 405:  # every method of the path, not only the first route's
            allow = ", ".join(allowed_methods(request))
            exc = HTTPException(405, exc.detail, headers={**(exc.headers or {}), "Allow": allow})
        return await http_exception_handler(request, exc)

    openapi = app.openapi

    def openapi_document() -> dict[str, Any]:
        marked = mark_optional_auth(openapi(), app.routes)
        document: dict[str, Any] = exact_integer_bounds(declare_errors(marked))
        return document

    app.openapi = openapi_document  # type: ignore[method-assign]

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        """Alive: the process answers."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], responses={503: {"description": "Not ready"}})
    async def readyz() -> JSONResponse:
        """Ready: database reachable, migrations applied, NATS connected."""
        checks = await runtime.readiness()
        ok = all(checks.values())
        return JSONResponse(
            {"status": "ok" if ok else "unavailable", "checks": checks},
            status_code=200 if ok else 503,
        )

    from guificloud.deadletters_api import router as deadletters  # it imports this module

    app.include_router(deadletters)
    return app


def get_runtime(request: Request) -> Runtime[Any, Any]:
    """The runtime of the request's app; each service types it (``<Service>RuntimeDep``)."""
    runtime: Runtime[Any, Any] = request.app.state.runtime
    return runtime


async def get_uow(request: Request) -> Any:
    """A unit of work per request; the handler commits it."""
    async with get_runtime(request).uow() as uow:
        yield uow


UowDep = Annotated[UnitOfWork, Depends(get_uow)]
RuntimeDep = Annotated[Runtime[Any, Any], Depends(get_runtime)]


AdminDep = Depends(require_operator())
"""The dependency of operator-only routes (box credentials, dead letters, store keys): an
operator's access token, or the deployment's admin token (see :mod:`guificloud.auth`)."""
