"""Every mutating route of every service refuses a caller without credentials (401 with a
``WWW-Authenticate`` challenge) and documents the bearer scheme in its OpenAPI document;
only the login route is exempt. Walked from the documents themselves, so a route added
later without a check fails here."""

from __future__ import annotations

import re
from typing import Any
from uuid import uuid4

import httpx
import pytest

from tests.e2e.system import SERVICES, System

pytestmark = [pytest.mark.e2e]

EXEMPT = {("POST", "/api/v1/auth/login")}
"""The one mutating route a caller without credentials may use: it is how one gets them."""
MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
EXAMPLES = {"{seq}": "1", "{token_id}": "abc", "{digest}": "sha256:" + "0" * 64}
"""Path parameters that are not uuids."""


def _example_path(path: str) -> str:
    return re.sub(r"\{[^}]+\}", lambda m: EXAMPLES.get(m.group(0)) or str(uuid4()), path)


@pytest.mark.parametrize("service", SERVICES)
def test_every_mutating_route_refuses_a_caller_without_credentials(
    fuzzed_system: System, service: str
) -> None:
    walked = []
    with httpx.Client(base_url=fuzzed_system.urls[service], timeout=10.0) as anonymous:
        spec: dict[str, Any] = anonymous.get("/api/v1/openapi.json").json()
        for path, methods in spec["paths"].items():
            for method, operation in methods.items():
                if method.upper() not in MUTATING or (method.upper(), path) in EXEMPT:
                    continue
                walked.append(f"{method.upper()} {path}")
                assert operation.get("security") == [{"bearer": []}], (method, path)
                response = anonymous.request(method, _example_path(path), json={})
                assert response.status_code == 401, (method, path, response.text)
                assert response.headers["WWW-Authenticate"].startswith("Bearer"), (method, path)
    assert walked, f"{service} has no mutating route?"


@pytest.mark.parametrize(
    ("service", "path"),
    [
        ("monitor", "/api/v1/fleet"),
        ("monitor", "/api/v1/boxes"),
        ("provisioner", "/api/v1/boxes"),
        ("registry", "/api/v1/nodes"),
        ("imagestore", "/api/v1/images"),
    ],
)
@pytest.mark.usefixtures("published_image")
def test_fleet_status_and_the_map_stay_readable_without_credentials(
    fuzzed_system: System, service: str, path: str
) -> None:
    with httpx.Client(base_url=fuzzed_system.urls[service], timeout=10.0) as anonymous:
        response = anonymous.get(path)
    assert response.status_code == 200, response.text
    assert response.json(), f"{service}{path} is empty: the fuzzed system has a box and an image"
