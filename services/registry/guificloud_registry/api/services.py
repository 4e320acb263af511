"""``/api/v1/services``: the directory where members find services inside the network."""

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
    Limit,
    Statuses,
    Text,
    Within,
    filters,
    item_response,
    page_response,
)
from guificloud_registry.conditional import not_modified
from guificloud_registry.models import Service
from guificloud_registry.schemas import ServiceIn, ServiceOut, ServicePatch
from guificloud_registry.schemas.services import canonical_service_type
from guificloud_registry.search import service_conditions

router = APIRouter(prefix="/api/v1", tags=["services"])
SERVICES = TypeAdapter(list[ServiceOut])
IfMatch = Annotated[str | None, Header(description="ETag the change was based on")]


@router.post("/devices/{device_id}/services", status_code=201, response_model=ServiceOut)
async def add_service(
    device_id: UUID, data: ServiceIn, by: WriterDep, uow: UowDep, once: IdempotencyDep
) -> Response:
    """For the owners of the device's node, its zone's maintainers and operators."""

    async def make() -> Response:
        service = await commands.add_service(uow, device_id, data, by=by)
        return item_response(service, ServiceOut, status_code=201)

    return await once.run(uow, make)


@router.get("/services", response_model=list[ServiceOut])
async def list_services(
    request: Request,
    uow: UowDep,
    within: Within = None,
    node_id: UUID | None = None,
    device_id: UUID | None = None,
    type: Annotated[list[str], Query(description="Service type (repeatable)")] = [],  # noqa: B006
    status: Statuses = [],  # noqa: B006
    q: Text = None,
    external_id: Int64Param | None = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Response:
    """Services, oldest first: e.g. every Tahoe-LAFS introducer in a zone's subtree."""
    types = [_as_known(t) for t in type]
    f = filters(
        within=within,
        node_id=node_id,
        device_id=device_id,
        service_type=types,
        status=status,
        q=q,
        external_id=external_id,
    )
    where = await service_conditions(uow.session, f)
    keys = (Service.created_at, Service.id)
    found = await page(uow.session, select(Service), keys, where, limit=limit, cursor=cursor)
    return page_response(request, found, SERVICES)


def _as_known(kind: str) -> str:
    """guifi.net's spelling of a known type; an unknown one (imported) as given."""
    try:
        return canonical_service_type(kind) or kind
    except ValueError:
        return kind


@router.get("/services/{service_id}", response_model=ServiceOut)
async def get_service(
    service_id: UUID, uow: UowDep, if_none_match: Annotated[str | None, Header()] = None
) -> Response:
    service = await commands.get_service(uow, service_id)
    if not_modified(if_none_match, service.version):
        return Response(status_code=304)
    return item_response(service, ServiceOut)


@router.patch("/services/{service_id}", response_model=ServiceOut)
async def update_service(
    service_id: UUID, data: ServicePatch, by: WriterDep, uow: UowDep, if_match: IfMatch = None
) -> Response:
    service = await commands.update_service(uow, service_id, data, by=by, if_match=if_match)
    return item_response(service, ServiceOut)


@router.delete("/services/{service_id}", status_code=204)
async def remove_service(
    service_id: UUID, by: WriterDep, uow: UowDep, if_match: IfMatch = None
) -> Response:
    await commands.remove_service(uow, service_id, by=by, if_match=if_match)
    return Response(status_code=204)
