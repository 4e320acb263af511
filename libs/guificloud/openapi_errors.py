"""The errors every operation may answer, declared in each service's OpenAPI document.

Routes declare what they return on success. What can go wrong follows from the shape of
the operation, the same way in every service, so it is declared here once:

- 401 where the operation reads a bearer token (it has ``security``), and 403 where it
  needs one (no anonymous alternative, see :mod:`guificloud.openapi_security`): a caller
  without the role, right or scope is refused;
- 404 where the path names a record;
- 409 where it changes something (the record is in use, or taken by another change);
- 412 where it takes ``If-Match``;
- 413 where it takes a body (JSON at most 1 MiB; uploads have their own limits), and 415
  where that body is not JSON (a multipart form is refused);
- 422 where it takes any input.

A route that declares one of these itself keeps its own description. Every error body is an
``ErrorOut``: a message, or a list of what is wrong and where (a 422 from validation lists,
one from the domain without a field to blame says it in words).
"""

from __future__ import annotations

from typing import Any

from guificloud.http_errors import ErrorOut
from guificloud.openapi_security import requires_token

CHANGES = frozenset({"post", "put", "patch", "delete"})
METHODS = CHANGES | {"get", "head", "options", "trace"}
REF = "#/components/schemas/ErrorOut"


def declare_errors(document: dict[str, Any]) -> dict[str, Any]:
    """Add the error responses to every operation of ``document`` (in place, idempotent)."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schema = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, definition in schema.pop("$defs", {}).items():
        schemas.setdefault(name, definition)
    schemas.setdefault("ErrorOut", schema)
    for path_item in document.get("paths", {}).values():
        for method, operation in path_item.items():
            if method in METHODS:
                responses = operation.setdefault("responses", {})
                for status, description in _errors(method, operation):
                    responses.setdefault(str(status), _response(description))
                if "422" in responses:  # FastAPI's says a list only
                    responses["422"]["content"] = _response("")["content"]
    return document


def _errors(method: str, operation: dict[str, Any]) -> list[tuple[int, str]]:
    params = operation.get("parameters", [])
    where = {p.get("in") for p in params}
    headers = {str(p.get("name", "")).lower() for p in params if p.get("in") == "header"}
    body = operation.get("requestBody")
    found: list[tuple[int, str]] = []
    if operation.get("security"):
        found.append((401, "No token, or a wrong one (``Authorization: Bearer <token>``)"))
    if requires_token(operation):
        found.append((403, "The caller lacks the role, right or scope the operation needs"))
    if "path" in where:
        found.append((404, "No record by that id"))
    if method in CHANGES:
        found.append((409, "The change conflicts with the records as they are now"))
    if "if-match" in headers:
        found.append((412, "``If-Match`` names another version than the stored one"))
    if body is not None:
        found.append((413, "The body is over its limit (JSON: 1 MiB)"))
        if set(body.get("content", {})) - {"application/json"}:
            found.append((415, "Not the media type this operation takes"))
    if params or body is not None:
        found.append((422, "Input that is malformed or makes no sense, naming the field"))
    return found


def _response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": REF}}}}
