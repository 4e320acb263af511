"""Routes that read a token if one comes document it as optional; the rest require it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI

from guificloud.auth import OperatorDep, OptionalPrincipalDep, PrincipalDep
from guificloud.idempotency import Idempotency, idempotency
from guificloud.openapi_errors import declare_errors
from guificloud.openapi_security import mark_optional_auth

BEARER = [{"bearer": []}]
EITHER = [{}, {"bearer": []}]


def _app() -> FastAPI:
    app = FastAPI()
    router = APIRouter(prefix="/v1")  # FastAPI includes routers lazily

    @router.get("/nodes/{node_id}")
    async def included(node_id: int, caller: OptionalPrincipalDep) -> None: ...

    app.include_router(router)

    @app.get("/public")
    async def public() -> None: ...

    @app.get("/nodes/{node_id}")
    async def node(node_id: int, caller: OptionalPrincipalDep) -> None: ...

    @app.get("/me")
    async def me(caller: PrincipalDep) -> None: ...

    @app.post("/nodes")
    async def create(
        caller: PrincipalDep, key: Annotated[Idempotency, Depends(idempotency())]
    ) -> None: ...

    @app.delete("/nodes/{node_id}")
    async def delete(node_id: int, caller: OperatorDep) -> None: ...

    return app


def _document() -> dict[str, Any]:
    app = _app()
    return declare_errors(mark_optional_auth(app.openapi(), app.routes))


def test_a_route_that_only_may_read_a_principal_lets_anonymous_callers_in() -> None:
    paths = _document()["paths"]
    assert paths["/nodes/{node_id}"]["get"]["security"] == EITHER
    assert paths["/v1/nodes/{node_id}"]["get"]["security"] == EITHER
    assert "security" not in paths["/public"]["get"]


def test_a_route_that_needs_a_principal_keeps_requiring_a_token() -> None:
    paths = _document()["paths"]
    assert paths["/me"]["get"]["security"] == BEARER
    assert paths["/nodes"]["post"]["security"] == BEARER  # idempotency reads one optionally
    assert paths["/nodes/{node_id}"]["delete"]["security"] == BEARER


def test_401_where_a_token_is_read_and_403_only_where_one_is_needed() -> None:
    paths = _document()["paths"]
    optional = paths["/nodes/{node_id}"]["get"]["responses"]
    assert "401" in optional and "403" not in optional
    for path, method in [("/me", "get"), ("/nodes", "post"), ("/nodes/{node_id}", "delete")]:
        assert {"401", "403"} <= set(paths[path][method]["responses"]), (path, method)
    assert not {"401", "403"} & set(paths["/public"]["get"]["responses"])
