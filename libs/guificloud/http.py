"""What every service's HTTP API shares: health, readiness, errors as 4xx, correlation ids."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from uuid import uuid4

from fastapi import Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from structlog.contextvars import bind_contextvars, unbind_contextvars

from guificloud.db.uow import UnitOfWork
from guificloud.errors import DomainError, Unauthorized
from guificloud.runtime import Runtime

CORRELATION_HEADER = "X-Correlation-Id"


def create_base_app(runtime: Runtime, *, title: str, description: str) -> FastAPI:
    app = FastAPI(
        title=title,
        description=description,
        version="1",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
    )
    app.state.runtime = runtime

    @app.middleware("http")
    async def correlation(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        cid = request.headers.get(CORRELATION_HEADER) or str(uuid4())
        bind_contextvars(correlation_id=cid)
        try:
            response = await call_next(request)
        finally:
            unbind_contextvars("correlation_id")
        response.headers[CORRELATION_HEADER] = cid
        return response

    @app.exception_handler(DomainError)
    async def domain_error(_request: Request, exc: DomainError) -> JSONResponse:
        detail: Any = exc.message
        if exc.field is not None:
            detail = [{"loc": ["body", exc.field], "msg": exc.message, "type": "value_error"}]
        return JSONResponse({"detail": detail}, status_code=exc.status_code)

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        """Alive: the process answers."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"])
    async def readyz() -> JSONResponse:
        """Ready: database reachable, migrations applied, NATS connected."""
        checks = await runtime.readiness()
        ok = all(checks.values())
        return JSONResponse(
            {"status": "ok" if ok else "unavailable", "checks": checks},
            status_code=200 if ok else 503,
        )

    return app


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def get_uow(request: Request) -> Any:
    """A unit of work per request; the handler commits it."""
    async with get_runtime(request).uow() as uow:
        yield uow


UowDep = Annotated[UnitOfWork, Depends(get_uow)]
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def require_admin(request: Request) -> None:
    """Operator-only endpoints (box credentials) need the admin token as a bearer token."""
    expected = get_runtime(request).settings.admin_token
    if request.headers.get("Authorization") != f"Bearer {expected}":
        raise Unauthorized("admin token required (Authorization: Bearer <GUIFICLOUD_ADMIN_TOKEN>)")


AdminDep = Depends(require_admin)
