"""Where a token is optional, the OpenAPI document says so.

FastAPI documents every route that reads the bearer scheme as *requiring* it, also the
public reads that only show more to a caller who sends one (``OptionalPrincipalDep``).
Those are rewritten to ``security: [{}, {"bearer": []}]`` (anonymous, or a token), so
clients and fuzzers do not expect a 401 without credentials. A route that also requires a
principal (``PrincipalDep`` or any ``require_*``) keeps the requirement.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import BaseRoute

from guificloud.auth.dependencies import bearer, current_principal, optional_principal

ANONYMOUS: dict[str, list[str]] = {}


def optional_auth_operations(routes: Iterable[BaseRoute]) -> set[tuple[str, str]]:
    """``(path, method)`` of the routes that read a principal if one comes but need none."""
    found: set[tuple[str, str]] = set()
    for route in iter_route_contexts(list(routes)):  # as FastAPI walks included routers
        if not isinstance(route.original_route, APIRoute) or route.path_format is None:
            continue
        calls = set(_calls(route.dependant))
        if optional_principal in calls and current_principal not in calls:
            found |= {(route.path_format, method.lower()) for method in route.methods or ()}
    return found


def mark_optional_auth(document: dict[str, Any], routes: Iterable[BaseRoute]) -> dict[str, Any]:
    """Let anonymous callers in on the operations of ``routes`` that need no principal
    (in place, idempotent)."""
    paths = document.get("paths", {})
    for path, method in optional_auth_operations(routes):
        operation = paths.get(path, {}).get(method)
        if operation is not None:
            operation["security"] = [ANONYMOUS, {bearer.scheme_name: []}]
    return document


def requires_token(operation: dict[str, Any]) -> bool:
    """Whether ``operation`` refuses a caller without a token: it has security
    requirements and none of them is the empty (anonymous) one."""
    security = operation.get("security") or []
    return bool(security) and ANONYMOUS not in security


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from _calls(sub)
