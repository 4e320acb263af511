"""The registry's HTTP API under ``/api/v1``."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, FastAPI, Query
from pydantic import BaseModel, Field
from sqlalchemy import select

from guificloud.http import UowDep, create_base_app
from guificloud.runtime import Runtime
from guificloud_registry import commands
from guificloud_registry.models import Node, Zone
from guificloud_registry.schemas import DeviceIn, DeviceOut, NodeIn, NodeOut, ZoneIn, ZoneOut

router = APIRouter(prefix="/api/v1")


class LocationIn(BaseModel):
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)


@router.post("/zones", status_code=201, response_model=ZoneOut, tags=["zones"])
async def create_zone(data: ZoneIn, uow: UowDep) -> Zone:
    return await commands.create_zone(uow, data)


@router.get("/zones", response_model=list[ZoneOut], tags=["zones"])
async def list_zones(uow: UowDep, parent_id: UUID | None = None) -> list[Zone]:
    stmt = select(Zone).order_by(Zone.name)
    if parent_id is not None:
        stmt = stmt.where(Zone.parent_id == parent_id)
    return list(await uow.session.scalars(stmt))


@router.get("/zones/{zone_id}", response_model=ZoneOut, tags=["zones"])
async def get_zone(zone_id: UUID, uow: UowDep) -> Zone:
    return await commands.get_zone(uow, zone_id)


@router.post("/nodes", status_code=201, response_model=NodeOut, tags=["nodes"])
async def create_node(data: NodeIn, uow: UowDep) -> Node:
    return await commands.create_node(uow, data)


@router.get("/nodes", response_model=list[NodeOut], tags=["nodes"])
async def list_nodes(
    uow: UowDep, zone_id: UUID | None = None, limit: int = Query(100, ge=1, le=1000)
) -> list[Node]:
    stmt = select(Node).order_by(Node.created_at).limit(limit)
    if zone_id is not None:
        stmt = stmt.where(Node.zone_id == zone_id)
    return list(await uow.session.scalars(stmt))


@router.get("/nodes/{node_id}", response_model=NodeOut, tags=["nodes"])
async def get_node(node_id: UUID, uow: UowDep) -> Node:
    return await commands.get_node(uow, node_id)


@router.put("/nodes/{node_id}/location", response_model=NodeOut, tags=["nodes"])
async def set_location(node_id: UUID, data: LocationIn, uow: UowDep) -> Node:
    return await commands.move_node(uow, node_id, data.latitude, data.longitude)


@router.post(
    "/nodes/{node_id}/devices", status_code=201, response_model=DeviceOut, tags=["devices"]
)
async def add_device(node_id: UUID, data: DeviceIn, uow: UowDep) -> DeviceOut:
    device = await commands.add_device(uow, node_id, data)
    return DeviceOut.model_validate(device)


@router.get("/nodes/{node_id}/devices", response_model=list[DeviceOut], tags=["devices"])
async def list_devices(node_id: UUID, uow: UowDep) -> list[DeviceOut]:
    return [DeviceOut.model_validate(d) for d in await commands.list_devices(uow, node_id)]


@router.get("/devices/{device_id}", response_model=DeviceOut, tags=["devices"])
async def get_device(device_id: UUID, uow: UowDep) -> DeviceOut:
    return DeviceOut.model_validate(await commands.get_device(uow, device_id))


def create_app(runtime: Runtime) -> FastAPI:
    app = create_base_app(
        runtime,
        title="guifi-cloud registry",
        description="Zones, nodes and devices of the Guifi.net community network.",
    )
    app.include_router(router)
    return app
