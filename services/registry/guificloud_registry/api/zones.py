"""``/api/v1/zones``: the zone tree."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Header, Query, Request, Response
from pydantic import TypeAdapter
from sqlalchemy import select

from guificloud.http import UowDep
from guificloud.idempotency import IdempotencyDep
from guificloud.inputs import Int64Param
from guificloud.pagination import page
from guificloud_registry import commands
from guificloud_registry.api.callers import WriterDep
from guificloud_registry.api.listing import (
    Cursor,
    Text,
    Within,
    filters,
    item_response,
    page_response,
)
from guificloud_registry.conditional import not_modified
from guificloud_registry.models import Zone
from guificloud_registry.schemas import ZoneIn, ZoneOut, ZonePatch
from guificloud_registry.search import zone_conditions

router = APIRouter(prefix="/api/v1", tags=["zones"])
ZONES = TypeAdapter(list[ZoneOut])
IfMatch = Annotated[str | None, Header(description="ETag the change was based on")]


@router.post("/zones", status_code=201, response_model=ZoneOut)
async def create_zone(data: ZoneIn, by: WriterDep, uow: UowDep, once: IdempotencyDep) -> Response:
    """A zone under ``parent_id``, for maintainers of that zone or a zone above it; a zone
    at the top of the tree, for operators."""

    async def make() -> Response:
        zone = await commands.create_zone(uow, data, by=by)
        return item_response(zone, ZoneOut, status_code=201)

    return await once.run(uow, make)


@router.get("/zones", response_model=list[ZoneOut])
async def list_zones(
    request: Request,
    uow: UowDep,
    parent_id: UUID | None = None,
    within: Within = None,
    name: Annotated[str | None, Query(max_length=200, description="Exact name")] = None,
    q: Text = None,
    external_id: Int64Param | None = None,
    limit: Annotated[int, Query(ge=1, le=5000, description="Zones per page")] = 5000,
    cursor: Cursor = None,
) -> Response:
    """Zones by name; the whole of guifi.net's tree (about 2,300 zones) fits one page."""
    f = filters(within=within, q=q, external_id=external_id)
    where = await zone_conditions(uow.session, f, parent_id=parent_id, name=name)
    keys = (Zone.name, Zone.id)
    found = await page(uow.session, select(Zone), keys, where, limit=limit, cursor=cursor)
    return page_response(request, found, ZONES)


@router.get("/zones/{zone_id}", response_model=ZoneOut)
async def get_zone(
    zone_id: UUID,
    uow: UowDep,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    zone = await commands.get_zone(uow, zone_id)
    if not_modified(if_none_match, zone.version):
        return Response(status_code=304)
    return item_response(zone, ZoneOut)


@router.patch("/zones/{zone_id}", response_model=ZoneOut)
async def update_zone(
    zone_id: UUID, data: ZonePatch, by: WriterDep, uow: UowDep, if_match: IfMatch = None
) -> Response:
    """Correct a zone; ``parent_id`` moves it with its whole subtree (never inside itself).
    For maintainers of the zone or a zone above it (a move: of the new parent's too) and
    operators."""
    zone = await commands.update_zone(uow, zone_id, data, by=by, if_match=if_match)
    return item_response(zone, ZoneOut)


@router.delete("/zones/{zone_id}", status_code=204)
async def delete_zone(
    zone_id: UUID, by: WriterDep, uow: UowDep, if_match: IfMatch = None
) -> Response:
    """Delete an empty zone; one with subzones or nodes is refused (409). As for a change."""
    await commands.delete_zone(uow, zone_id, by=by, if_match=if_match)
    return Response(status_code=204)
