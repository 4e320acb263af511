"""The identity service's HTTP API under ``/api/v1``: a router per resource."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from guificloud.auth.dependencies import REALM, install_verifier
from guificloud.errors import Unauthorized
from guificloud.http import create_base_app
from guificloud_identity.api import auth, groups, maintainers, members, tokens, tools
from guificloud_identity.api.deps import own_verifier
from guificloud_identity.errors import TooManyRequests
from guificloud_identity.runtime import IdentityRuntime


def create_app(runtime: IdentityRuntime) -> FastAPI:
    settings = runtime.settings
    app = create_base_app(
        runtime,
        title="guifi-cloud identity",
        description=(
            "Members, tool accounts, groups with CONFINE's roles (group admin, node admin, "
            "slice admin), zone maintainers, API tokens; logins that give short-lived "
            "EdDSA access tokens every service verifies offline against `/api/v1/auth/"
            "jwks.json`. A revocation or a disabled account takes effect at the next "
            f"refresh: within {settings.access_token_ttl_s} s (the access token lifetime)."
        ),
    )
    install_verifier(app, own_verifier(runtime, runtime.resources))

    @app.exception_handler(TooManyRequests)
    async def too_many(_request: Request, exc: TooManyRequests) -> JSONResponse:
        return JSONResponse(
            {"detail": exc.message},
            status_code=429,
            headers={"Retry-After": str(exc.retry_after_s)},
        )

    @app.exception_handler(Unauthorized)
    async def unauthorized(_request: Request, exc: Unauthorized) -> JSONResponse:
        return JSONResponse(
            {"detail": exc.message},
            status_code=401,
            headers={"WWW-Authenticate": f'Bearer realm="{REALM}", error="invalid_token"'},
        )

    for module in (auth, members, tools, groups, tokens, maintainers):
        app.include_router(module.router)
    return app
