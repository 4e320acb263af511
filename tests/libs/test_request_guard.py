"""The request guard in front of every service: body limits, NUL, NaN, malformed JSON."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from pydantic import BaseModel

from guificloud.inputs import Int64
from guificloud.request_guard import BODY_MAX_BYTES, RequestGuard, allow_large_body

pytestmark = pytest.mark.unit

MIB = 1024 * 1024


class Item(BaseModel):
    name: str = ""
    tags: list[str] = []
    x: float = 0.0
    n: Int64 = 0


def _app() -> FastAPI:
    app = FastAPI()
    app.add_middleware(RequestGuard)

    @app.post("/items")
    async def items(item: Item) -> Item:
        return item

    @app.get("/search")
    async def search(q: str = "") -> dict[str, str]:
        return {"q": q}

    @app.post("/raw")
    async def raw(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    @app.post("/large")
    async def large(request: Request) -> dict[str, int]:
        allow_large_body(request)
        return {"bytes": sum([len(c) async for c in request.stream()])}

    return app


async def _send(method: str, path: str, **kwargs: Any) -> httpx.Response:
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://guard") as client:
        return await client.request(method, path, **kwargs)


async def _chunks(total: int, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    for start in range(0, total, size):
        yield b"x" * min(size, total - start)


def _error(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert len(detail) == 1
    return dict(detail[0])


async def test_nul_in_a_query_parameter_is_a_422_naming_it() -> None:
    error = _error(await _send("GET", "/search?q=a%00b"))
    assert error["loc"] == ["query", "q"]
    assert "NUL" in error["msg"]


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999"])
async def test_non_finite_numbers_in_json_are_a_422_naming_the_field(literal: str) -> None:
    body = '{"name": "a", "x": ' + literal + "}"
    headers = {"Content-Type": "application/json"}
    error = _error(await _send("POST", "/items", content=body, headers=headers))
    assert error["loc"] == ["body", "x"]
    assert error["type"] == "finite_number"


async def test_nul_anywhere_in_a_json_body_is_a_422_naming_where() -> None:
    error = _error(await _send("POST", "/items", json={"tags": ["ok", "a\x00b"]}))
    assert error["loc"] == ["body", "tags", 1]
    assert error["type"] == "string_nul"


async def test_a_lone_surrogate_in_json_is_a_422() -> None:
    body = '{"name": "\\ud800"}'
    headers = {"Content-Type": "application/json"}
    error = _error(await _send("POST", "/items", content=body, headers=headers))
    assert error["loc"] == ["body", "name"]


async def test_json_that_is_not_utf8_is_a_422_not_a_400() -> None:
    headers = {"Content-Type": "application/json"}
    error = _error(await _send("POST", "/items", content=b'{"name": "\xff"}', headers=headers))
    assert error["type"] == "json_invalid"


async def test_an_integer_past_64_bits_is_a_422_naming_the_field() -> None:
    error = _error(await _send("POST", "/items", json={"n": 58718145823163118887994730217472}))
    assert error["loc"] == ["body", "n"]


async def test_a_declared_length_over_the_limit_is_a_413_before_reading() -> None:
    body = json.dumps({"name": "x" * BODY_MAX_BYTES})
    response = await _send(
        "POST", "/items", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413, response.text
    assert str(BODY_MAX_BYTES) in response.json()["detail"]


@pytest.mark.parametrize("content_type", ["application/json", "application/octet-stream"])
async def test_a_chunked_body_growing_over_the_limit_is_a_413(content_type: str) -> None:
    response = await _send(
        "POST", "/raw", content=_chunks(2 * MIB), headers={"Content-Type": content_type}
    )
    assert "content-length" not in response.request.headers
    assert response.status_code == 413, response.text


async def test_a_route_that_bounds_its_body_itself_takes_more() -> None:
    response = await _send(
        "POST", "/large", content=_chunks(3 * MIB), headers={"Content-Type": "application/xml"}
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"bytes": 3 * MIB}


async def test_good_input_passes_unchanged() -> None:
    item = {"name": "ñ ok", "tags": ["a"], "x": 1.5, "n": 2**63 - 1}
    response = await _send("POST", "/items", json=item)
    assert response.status_code == 200, response.text
    assert response.json() == item
