"""``/api/v1/devices`` and ``/api/v1/nodes/{id}/devices``: step 3 of the seed, and what a
device carries (radios, interfaces, links)."""

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
from guificloud_registry.models import Device
from guificloud_registry.network import interfaces_of, links_of, radios_of
from guificloud_registry.schemas import (
    DeviceIn,
    DeviceOut,
    DevicePatch,
    InterfaceOut,
    LinkOut,
    RadioOut,
)
from guificloud_registry.search import device_conditions

router = APIRouter(prefix="/api/v1", tags=["devices"])
DEVICES = TypeAdapter(list[DeviceOut])
IfMatch = Annotated[str | None, Header(description="ETag the change was based on")]


@router.post("/nodes/{node_id}/devices", status_code=201, response_model=DeviceOut)
async def add_device(
    node_id: UUID, data: DeviceIn, by: WriterDep, uow: UowDep, once: IdempotencyDep
) -> Response:
    """Step 3: a device on the node; a cloud type (with its hardware) starts onboarding. For
    the node's owners, its zone's maintainers and operators; a cloud box needs the node's
    group to be one that may have nodes (an operator may put one on a node of no group)."""

    async def make() -> Response:
        device = await commands.add_device(uow, node_id, data, by=by)
        return item_response(device, DeviceOut, status_code=201)

    return await once.run(uow, make)


@router.get("/nodes/{node_id}/devices", response_model=list[DeviceOut])
async def node_devices(node_id: UUID, uow: UowDep) -> list[DeviceOut]:
    return [DeviceOut.model_validate(d) for d in await commands.list_devices(uow, node_id)]


@router.get("/devices", response_model=list[DeviceOut])
async def list_devices(
    request: Request,
    uow: UowDep,
    within: Within = None,
    node_id: UUID | None = None,
    type: Annotated[list[str], Query(description="Device type (repeatable)")] = [],  # noqa: B006
    status: Statuses = [],  # noqa: B006
    q: Text = None,
    external_id: Int64Param | None = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Response:
    """Devices, oldest first, filtered (e.g. every cloud box of a zone's subtree)."""
    f = filters(
        within=within,
        node_id=node_id,
        device_type=type,
        status=status,
        q=q,
        external_id=external_id,
    )
    where = await device_conditions(uow.session, f)
    keys = (Device.created_at, Device.id)
    found = await page(uow.session, select(Device), keys, where, limit=limit, cursor=cursor)
    return page_response(request, found, DEVICES)


@router.get("/devices/{device_id}", response_model=DeviceOut)
async def get_device(
    device_id: UUID, uow: UowDep, if_none_match: Annotated[str | None, Header()] = None
) -> Response:
    device = await commands.get_device(uow, device_id)
    if not_modified(if_none_match, device.version):
        return Response(status_code=304)
    return item_response(device, DeviceOut)


@router.patch("/devices/{device_id}", response_model=DeviceOut)
async def update_device(
    device_id: UUID, data: DevicePatch, by: WriterDep, uow: UowDep, if_match: IfMatch = None
) -> Response:
    """For the node's owners, its zone's maintainers and operators."""
    device = await commands.update_device(uow, device_id, data, by=by, if_match=if_match)
    return item_response(device, DeviceOut)


@router.delete("/devices/{device_id}", status_code=204)
async def remove_device(
    device_id: UUID, by: WriterDep, uow: UowDep, if_match: IfMatch = None
) -> Response:
    """Remove a device with its radios, interfaces and services (as for a change)."""
    await commands.remove_device(uow, device_id, by=by, if_match=if_match)
    return Response(status_code=204)


@router.get("/devices/{device_id}/radios", response_model=list[RadioOut], tags=["network"])
async def device_radios(device_id: UUID, uow: UowDep) -> list[RadioOut]:
    await commands.get_device(uow, device_id)
    return await radios_of(uow.session, device_id)


@router.get("/devices/{device_id}/interfaces", response_model=list[InterfaceOut], tags=["network"])
async def device_interfaces(device_id: UUID, uow: UowDep) -> list[InterfaceOut]:
    await commands.get_device(uow, device_id)
    return await interfaces_of(uow.session, device_id)


@router.get("/devices/{device_id}/links", response_model=list[LinkOut], tags=["network"])
async def device_links(device_id: UUID, uow: UowDep) -> list[LinkOut]:
    await commands.get_device(uow, device_id)
    return await links_of(uow.session, device_id=device_id)
