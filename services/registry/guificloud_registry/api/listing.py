"""What list endpoints share: filters from the query string, pages as JSON arrays with the
next page in headers (so that callers of the plain arrays keep working)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any
from uuid import UUID

from fastapi import Query, Request, Response
from pydantic import TypeAdapter

from guificloud.events.registry import NodeStatus
from guificloud.pagination import Page, next_page_headers
from guificloud_registry.conditional import etag
from guificloud_registry.search import BBox, Filters

Limit = Annotated[int, Query(ge=1, le=1000, description="Items per page")]
Cursor = Annotated[
    str | None, Query(max_length=512, description="From the previous page's next link")
]
Within = Annotated[
    UUID | None, Query(description="Only what lies in this zone or any zone under it")
]
Text = Annotated[str | None, Query(min_length=1, max_length=100, description="Text in the name")]
BBoxParam = Annotated[
    str | None,
    Query(description="min_lon,min_lat,max_lon,max_lat", examples=["2.0,41.8,2.4,42.1"]),
]
Statuses = Annotated[list[NodeStatus], Query(description="guifi.net status (repeatable)")]


def filters(
    *,
    within: UUID | None = None,
    zone_id: UUID | None = None,
    node_id: UUID | None = None,
    device_id: UUID | None = None,
    status: Sequence[str] = (),
    device_type: Sequence[str] = (),
    service_type: Sequence[str] = (),
    bbox: str | None = None,
    q: str | None = None,
    external_id: int | None = None,
) -> Filters:
    return Filters(
        within=within,
        zone_id=zone_id,
        node_id=node_id,
        device_id=device_id,
        status=tuple(status),
        device_type=tuple(device_type),
        service_type=tuple(service_type),
        bbox=BBox.parse(bbox) if bbox is not None else None,
        q=q,
        external_id=external_id,
    )


def page_response(
    request: Request, page: Page, adapter: TypeAdapter[Any], *, media_type: str = "application/json"
) -> Response:
    """The page's items as a JSON array, serialized once (no second validation pass)."""
    body = adapter.dump_json(adapter.validate_python(page.items, from_attributes=True))
    headers = next_page_headers(request.url, page.next_cursor)
    return Response(body, media_type=media_type, headers=headers)


def item_response(item: Any, model: type[Any], *, status_code: int = 200) -> Response:
    """One record with its ``ETag``."""
    out = model.model_validate(item, from_attributes=True)
    return Response(
        out.model_dump_json(),
        status_code=status_code,
        media_type="application/json",
        headers={"ETag": etag(item.version)},
    )
