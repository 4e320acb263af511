"""What the fuzzer found, one request each, against the real services: bad input is a 4xx
naming where it is, never a 5xx. Requests are the system's operator's, so what is tested
is the input, not the credentials."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import httpx
import pytest

from tests.e2e.system import ADMIN_TOKEN, System

pytestmark = pytest.mark.e2e

BEYOND_64_BITS = 58718145823163118887994730217472
MIB = 1024 * 1024


def _only_error(response: httpx.Response, status: int = 422) -> dict[str, Any]:
    assert response.status_code == status, response.text
    [error] = response.json()["detail"]
    return dict(error)


def _json(body: str) -> dict[str, Any]:
    return {"content": body, "headers": {"Content-Type": "application/json"}}


@pytest.fixture
def registry(fuzzed_system: System) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=fuzzed_system.urls["registry"], auth=fuzzed_system.http.auth, timeout=30
    ) as client:
        yield client


@pytest.fixture
def zone_id(registry: httpx.Client) -> str:
    response = registry.post("/api/v1/zones", json={"name": f"zone {uuid4().hex[:6]}"})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def test_nul_in_a_query_string_is_a_422_naming_the_parameter(registry: httpx.Client) -> None:
    error = _only_error(registry.get("/api/v1/nodes?q=a%00b"))
    assert error["loc"] == ["query", "q"]


def test_nul_in_a_json_string_is_a_422_naming_the_field(registry: httpx.Client) -> None:
    error = _only_error(registry.post("/api/v1/zones", json={"name": "a\x00b"}))
    assert error["loc"] == ["body", "name"]


def test_an_integer_beyond_64_bits_in_a_body_is_a_422(registry: httpx.Client, zone_id: str) -> None:
    node = {"name": "n", "zone_id": zone_id, "latitude": 41.9, "longitude": 2.2}
    error = _only_error(
        registry.post("/api/v1/nodes", json={**node, "external_id": BEYOND_64_BITS})
    )
    assert error["loc"] == ["body", "external_id"]


def test_an_integer_beyond_64_bits_in_a_query_is_a_422(registry: httpx.Client) -> None:
    error = _only_error(registry.get("/api/v1/nodes", params={"external_id": BEYOND_64_BITS}))
    assert error["loc"] == ["query", "external_id"]


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_in_json_are_a_422(
    registry: httpx.Client, zone_id: str, literal: str
) -> None:
    body = f'{{"name": "n", "zone_id": "{zone_id}", "latitude": {literal}, "longitude": 2.2}}'
    error = _only_error(registry.post("/api/v1/nodes", **_json(body)))
    assert error["loc"] == ["body", "latitude"]


def test_true_is_not_a_number(registry: httpx.Client, zone_id: str) -> None:
    node = {"name": "n", "zone_id": zone_id, "latitude": True, "longitude": 2.2}
    error = _only_error(registry.post("/api/v1/nodes", json=node))
    assert error["loc"] == ["body", "latitude"]


def test_a_huge_input_is_not_echoed_back(registry: httpx.Client) -> None:
    response = registry.post("/api/v1/zones", json={"name": "x" * (MIB // 2)})
    error = _only_error(response)
    assert error["loc"] == ["body", "name"]
    assert len(response.content) < 2000


def test_a_json_body_over_1_mib_is_a_413(registry: httpx.Client) -> None:
    body = json.dumps({"name": "z", "description": "x" * MIB})
    assert registry.post("/api/v1/zones", **_json(body)).status_code == 413


def test_a_chunked_body_over_1_mib_is_a_413(registry: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"name": "z", "description": "'
        for _ in range(32):
            yield b"x" * 65536
        yield b'"}'

    response = registry.post(
        "/api/v1/zones", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    assert response.status_code == 413, response.text


def test_a_domain_error_names_the_query_parameter(fuzzed_system: System) -> None:
    url = fuzzed_system.url("provisioner", "/api/v1/slices")
    error = _only_error(fuzzed_system.http.get(url, params={"cursor": "not-a-cursor"}))
    assert error["loc"] == ["query", "cursor"]


def test_a_405_allows_every_method_of_the_path(registry: httpx.Client, zone_id: str) -> None:
    response = registry.request("OPTIONS", f"/api/v1/zones/{zone_id}")
    assert response.status_code == 405
    assert response.headers["Allow"] == "DELETE, GET, PATCH"


def test_a_literal_path_outranks_a_template_in_allow(registry: httpx.Client) -> None:
    response = registry.request("OPTIONS", "/api/v1/deadletters/replay")
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"


def test_a_dead_letter_cursor_beyond_64_bits_is_a_422(registry: httpx.Client) -> None:
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    response = registry.get(f"/api/v1/deadletters?after={BEYOND_64_BITS}", headers=admin)
    assert _only_error(response)["loc"] == ["query", "after"]


def test_an_upload_offset_beyond_64_bits_is_a_422(fuzzed_system: System) -> None:
    url = fuzzed_system.url("imagestore", f"/api/v1/uploads/{uuid4()}")
    response = fuzzed_system.http.patch(
        url,
        content=b"x",
        headers={"Upload-Offset": str(2**64), "Content-Type": "application/offset+octet-stream"},
    )
    assert _only_error(response)["loc"] == ["header", "Upload-Offset"]


@pytest.mark.parametrize(
    ("service", "path"),
    [
        ("provisioner", "/api/v1/slices?owner_group=a%00b"),
        ("imagestore", "/api/v1/images?channel=a%00b"),
        ("imagestore", "/api/v1/uploads?version=a%00b"),
    ],
)
def test_nul_in_a_query_string_is_a_422_in_every_service(
    fuzzed_system: System, service: str, path: str
) -> None:
    error = _only_error(fuzzed_system.http.get(fuzzed_system.url(service, path)))
    assert error["loc"][0] == "query"
