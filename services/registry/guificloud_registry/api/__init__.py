"""The registry's HTTP API under ``/api/v1``: a router per resource."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from guificloud.http import create_base_app
from guificloud_registry.api import cnml, devices, nodes, services, zones
from guificloud_registry.cnml.parse import CnmlError
from guificloud_registry.runtime import RegistryRuntime


def create_app(runtime: RegistryRuntime) -> FastAPI:
    app = create_base_app(
        runtime,
        title="guifi-cloud registry",
        description=(
            "The Guifi.net network model: zones, nodes, devices, radios, interfaces, links and "
            "services; CNML import and export; search at network scale. Lists are keyset "
            'pages: follow the `Link: <...>; rel="next"` header. Items carry an `ETag`; send '
            "`If-Match` with a change to refuse overwriting someone else's (412)."
        ),
    )

    @app.exception_handler(CnmlError)
    async def cnml_refused(_request: Request, exc: CnmlError) -> JSONResponse:
        """A malformed file: the line and the reason, nothing imported."""
        return JSONResponse(
            {
                "detail": [
                    {"loc": ["body"], "msg": exc.reason, "type": "cnml_error", "line": exc.line}
                ]
            },
            status_code=422,
        )

    for module in (zones, nodes, devices, services, cnml):
        app.include_router(module.router)
    return app
