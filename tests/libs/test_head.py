"""``HEAD`` on the ``GET`` routes of every service's app: the ``GET``'s status and headers,
no body."""

from __future__ import annotations

from types import SimpleNamespace
from typing import cast

import httpx
import pytest
from fastapi import Response

from guificloud.http import create_base_app
from guificloud.runtime import Runtime
from guificloud.testing.tokens import TokenMint

pytestmark = pytest.mark.unit

APP_ONLY = SimpleNamespace(verifier=TokenMint().verifier())
"""What create_base_app needs of a runtime when no route reaches the database."""


async def test_head_answers_every_get_route_without_the_body() -> None:
    app = create_base_app(cast(Runtime, APP_ONLY), title="t", description="d")

    @app.get("/api/v1/things")
    async def things() -> Response:
        return Response(
            b'[{"id":1}]', media_type="application/json", headers={"X-Next-Cursor": "c"}
        )

    @app.post("/api/v1/things")
    async def add_thing() -> dict[str, int]:
        return {"id": 2}

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
        for path in ("/healthz", "/api/v1/things", "/api/v1/openapi.json"):
            got, head = await client.get(path), await client.head(path)
            assert (head.status_code, got.status_code) == (200, 200), path
            assert head.content == b""
            assert head.headers["content-length"] == got.headers["content-length"] != "0"
            assert head.headers["content-type"] == got.headers["content-type"]
        head = await client.head("/api/v1/things")
        assert head.headers["x-next-cursor"] == "c"
        assert (await client.head("/nowhere")).status_code == 404
        assert (await client.post("/api/v1/things")).json() == {"id": 2}
