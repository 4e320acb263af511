"""``/api/v1/nodes``: steps 1 and 2 of the seed, the searchable list, GeoJSON for maps, and
who a node belongs to. A node's contact data is answered only to those who may see it
(:mod:`guificloud_registry.contacts`)."""

from __future__ import annotations

import json
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Header, Query, Request, Response
from pydantic import TypeAdapter
from sqlalchemy import select

from guificloud.auth import OptionalPrincipalDep, Principal
from guificloud.http import UowDep
from guificloud.idempotency import IdempotencyDep
from guificloud.inputs import Int64Param
from guificloud.pagination import Page, next_page_headers, page
from guificloud_registry import commands
from guificloud_registry.access import READ_CONTACTS
from guificloud_registry.api.callers import WriterDep
from guificloud_registry.api.listing import (
    BBoxParam,
    Cursor,
    Limit,
    Statuses,
    Text,
    Within,
    filters,
)
from guificloud_registry.commands.owners import change_owner
from guificloud_registry.conditional import etag, not_modified
from guificloud_registry.contacts import contact_shown
from guificloud_registry.models import Node
from guificloud_registry.network import links_of
from guificloud_registry.schemas import LinkOut, LocationIn, NodeIn, NodeOut, NodePatch, OwnerIn
from guificloud_registry.search import Filters, node_conditions

router = APIRouter(prefix="/api/v1", tags=["nodes"])
NODES = TypeAdapter(list[NodeOut])
IfMatch = Annotated[str | None, Header(description="ETag the change was based on")]
VARY = {"Vary": "Authorization"}  # contact data depends on who asks
DeviceTypes = Annotated[list[str], Query(description="Nodes with a device of this type")]


def node_filters(
    within: Within = None,
    zone_id: UUID | None = None,
    status: Statuses = [],  # noqa: B006 - FastAPI copies query defaults
    device_type: DeviceTypes = [],  # noqa: B006
    bbox: BBoxParam = None,
    q: Text = None,
    external_id: int | None = None,
) -> Filters:
    return filters(
        within=within,
        zone_id=zone_id,
        status=status,
        device_type=device_type,
        bbox=bbox,
        q=q,
        external_id=external_id,
    )


async def _page(uow: UowDep, f: Filters, limit: int, cursor: str | None) -> Page:
    where = await node_conditions(uow.session, f)
    keys = (Node.created_at, Node.id)
    return await page(uow.session, select(Node), keys, where, limit=limit, cursor=cursor)


def node_response(node: Node, *, contact: bool, status_code: int = 200) -> Response:
    out = NodeOut.model_validate(node, from_attributes=True)
    if not contact:
        out.owner = None
    headers = {"ETag": etag(node.version), **VARY}
    return Response(
        out.model_dump_json(),
        status_code=status_code,
        media_type="application/json",
        headers=headers,
    )


def changed_node(node: Node, by: Principal, *, status_code: int = 200) -> Response:
    """A node as answered to whoever just changed it (so may manage it): its contact data
    if the token may read it. Decided without the database, which a commit may have left."""
    return node_response(node, contact=by.may(READ_CONTACTS), status_code=status_code)


@router.post("/nodes", status_code=201, response_model=NodeOut)
async def create_node(data: NodeIn, by: WriterDep, uow: UowDep, once: IdempotencyDep) -> Response:
    """Step 1 (and 2): a node with its information and its place on the map. It belongs to
    the caller and, with ``owner_group_id``, to that group (the caller must be its
    group_admin or node_admin)."""

    async def make() -> Response:
        node = await commands.create_node(uow, data, by=by)
        return changed_node(node, by, status_code=201)

    return await once.run(uow, make)


@router.get("/nodes", response_model=list[NodeOut])
async def list_nodes(
    request: Request,
    uow: UowDep,
    caller: OptionalPrincipalDep,
    within: Within = None,
    zone_id: UUID | None = None,
    status: Statuses = [],  # noqa: B006
    device_type: DeviceTypes = [],  # noqa: B006
    bbox: BBoxParam = None,
    q: Text = None,
    external_id: Int64Param | None = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Response:
    """Nodes, oldest first, filtered; a keyset page with a ``next`` link."""
    f = node_filters(within, zone_id, status, device_type, bbox, q, external_id)
    found = await _page(uow, f, limit, cursor)
    shown = await contact_shown(uow.session, caller, found.items)
    nodes = NODES.validate_python(found.items, from_attributes=True)
    for out in nodes:
        if not shown(out):
            out.owner = None
    headers = {**next_page_headers(request.url, found.next_cursor), **VARY}
    return Response(NODES.dump_json(nodes), media_type="application/json", headers=headers)


@router.get(
    "/nodes.geojson",
    tags=["maps"],
    response_class=Response,
    responses={200: {"content": {"application/geo+json": {}}}},
)
async def nodes_geojson(
    request: Request,
    uow: UowDep,
    within: Within = None,
    zone_id: UUID | None = None,
    status: Statuses = [],  # noqa: B006
    device_type: DeviceTypes = [],  # noqa: B006
    bbox: BBoxParam = None,
    q: Text = None,
    external_id: Int64Param | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    cursor: Cursor = None,
) -> Response:
    """The same list as a GeoJSON FeatureCollection of points, for maps."""
    f = node_filters(within, zone_id, status, device_type, bbox, q, external_id)
    found = await _page(uow, f, limit, cursor)
    collection = {"type": "FeatureCollection", "features": [_feature(n) for n in found.items]}
    return Response(
        json.dumps(collection, separators=(",", ":")),
        media_type="application/geo+json",
        headers=next_page_headers(request.url, found.next_cursor),
    )


def _feature(node: Node) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": str(node.id),
        "geometry": {"type": "Point", "coordinates": [node.longitude, node.latitude]},
        "properties": {
            "name": node.name,
            "status": node.status,
            "zone_id": str(node.zone_id),
            "external_id": node.external_id,
            "elevation": node.elevation,
        },
    }


@router.get("/nodes/{node_id}", response_model=NodeOut)
async def get_node(
    node_id: UUID,
    uow: UowDep,
    caller: OptionalPrincipalDep,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    node = await commands.get_node(uow, node_id)
    if not_modified(if_none_match, node.version):
        return Response(status_code=304, headers=VARY)
    shown = await contact_shown(uow.session, caller, [node])
    return node_response(node, contact=shown(node))


@router.patch("/nodes/{node_id}", response_model=NodeOut)
async def update_node(
    node_id: UUID, data: NodePatch, by: WriterDep, uow: UowDep, if_match: IfMatch = None
) -> Response:
    """Correct a node: only the fields sent change. For its owners, its zone's maintainers
    and operators."""
    node = await commands.update_node(uow, node_id, data, by=by, if_match=if_match)
    return changed_node(node, by)


@router.put("/nodes/{node_id}/location", response_model=NodeOut)
async def set_location(
    node_id: UUID, data: LocationIn, by: WriterDep, uow: UowDep, if_match: IfMatch = None
) -> Response:
    """Step 2: set or correct the node's place on the map."""
    node = await commands.move_node(
        uow, node_id, data.latitude, data.longitude, by=by, if_match=if_match
    )
    return changed_node(node, by)


@router.put("/nodes/{node_id}/owner", response_model=NodeOut)
async def set_owner(
    node_id: UUID, data: OwnerIn, by: WriterDep, uow: UowDep, if_match: IfMatch = None
) -> Response:
    """Give the node to other owners (``registry.node.owner_changed``), or claim an imported
    one. For its owners, its zone's maintainers and operators; others than operators give it
    only to themselves or to groups they are group_admin or node_admin of. A node with a
    cloud box goes only to a group that may have nodes."""
    node = await change_owner(uow, node_id, data, by=by, if_match=if_match)
    return changed_node(node, by)


@router.delete("/nodes/{node_id}", status_code=204)
async def delete_node(
    node_id: UUID, by: WriterDep, uow: UowDep, if_match: IfMatch = None
) -> Response:
    """Delete a node without devices; one with devices is refused (409)."""
    await commands.delete_node(uow, node_id, by=by, if_match=if_match)
    return Response(status_code=204)


@router.get("/nodes/{node_id}/links", response_model=list[LinkOut], tags=["network"])
async def node_links(node_id: UUID, uow: UowDep) -> list[LinkOut]:
    await commands.get_node(uow, node_id)
    return await links_of(uow.session, node_id=node_id)
