"""How errors are rendered and documented: clipped inputs, error responses in OpenAPI."""

from __future__ import annotations

import json
from typing import Any

import pytest

from guificloud.http_errors import INPUT_MAX_CHARS, validation_details
from guificloud.openapi_errors import REF, declare_errors

pytestmark = pytest.mark.unit


def _one(error: dict[str, Any]) -> dict[str, Any]:
    [detail] = validation_details([error])
    json.dumps(detail, allow_nan=False)  # what the response will do
    return detail


def test_a_huge_input_is_clipped() -> None:
    detail = _one(
        {"type": "string_too_long", "loc": ("body", "name"), "msg": "x", "input": "n" * 10**7}
    )
    assert detail["loc"] == ["body", "name"]
    assert len(detail["input"]) <= INPUT_MAX_CHARS + 1


def test_a_huge_object_is_not_echoed() -> None:
    detail = _one(
        {"type": "missing", "loc": ("body", "x"), "msg": "x", "input": {"a": "b" * 10**6}}
    )
    assert "input" not in detail


def test_inputs_json_cannot_say_are_made_safe() -> None:
    assert (
        _one({"type": "t", "loc": ("query", "x"), "msg": "m", "input": float("nan")})["input"]
        == "nan"
    )
    assert (
        _one({"type": "t", "loc": ("body",), "msg": "m", "input": b"\xff\xfe"})["input"]
        == "\ufffd\ufffd"
    )
    detail = _one({"type": "t", "loc": ("body",), "msg": "m", "ctx": {"error": ValueError("no")}})
    assert detail["ctx"] == {"error": "no"}


def _operation(**extra: Any) -> dict[str, Any]:
    return {"responses": {"200": {"description": "OK"}}, **extra}


def test_errors_are_declared_from_the_shape_of_each_operation() -> None:
    document = {
        "paths": {
            "/things/{id}": {
                "get": _operation(parameters=[{"name": "id", "in": "path"}]),
                "patch": _operation(
                    parameters=[{"name": "id", "in": "path"}, {"name": "if-match", "in": "header"}],
                    requestBody={"content": {"application/json": {}}},
                ),
            },
            "/uploads": {
                "post": _operation(
                    requestBody={"content": {"application/octet-stream": {}}},
                    security=[{"AdminToken": []}],
                ),
            },
            "/healthz": {"get": _operation()},
            "/validated": {
                "post": {"requestBody": {}, "responses": {"422": {"description": "FastAPI's"}}}
            },
        }
    }
    declare_errors(document)
    paths = document["paths"]
    assert set(paths["/things/{id}"]["get"]["responses"]) == {"200", "404", "422"}
    assert set(paths["/things/{id}"]["patch"]["responses"]) == {
        "200",
        "404",
        "409",
        "412",
        "413",
        "422",
    }
    assert set(paths["/uploads"]["post"]["responses"]) == {
        "200",
        "401",
        "403",
        "409",
        "413",
        "415",
        "422",
    }
    assert set(paths["/healthz"]["get"]["responses"]) == {"200"}
    assert "ErrorOut" in document["components"]["schemas"]
    validated = paths["/validated"]["post"]["responses"]["422"]
    assert validated["description"] == "FastAPI's"
    assert validated["content"]["application/json"]["schema"] == {"$ref": REF}
