"""Nodes: steps 1 and 2 of the seed (the node's information and its place on the map)."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import exists, select

from guificloud.auth import Principal
from guificloud.db.uow import UnitOfWork
from guificloud.errors import Conflict, InvalidInput
from guificloud.events.registry import NodeCreated, NodeDeleted, NodeUpdated
from guificloud_registry.access import ensure_manages_node
from guificloud_registry.commands.changes import assign, ensure_external_id_free, touch
from guificloud_registry.commands.owners import owner_of_new_node
from guificloud_registry.conditional import check_if_match
from guificloud_registry.models import Device, Node, Zone
from guificloud_registry.schemas import NodeIn, NodePatch

REQUIRED = frozenset({"name", "zone_id", "latitude", "longitude", "status"})


def _six(value: float) -> float:
    """Six decimals of a degree: about 11 cm, what guifi.net keeps."""
    return round(value, 6)


async def _known_zone(uow: UnitOfWork, zone_id: UUID) -> None:
    if await uow.session.get(Zone, zone_id) is None:
        raise InvalidInput(f"unknown zone {zone_id}", field="zone_id")


async def create_node(uow: UnitOfWork, data: NodeIn, *, by: Principal) -> Node:
    """Anyone who may write creates nodes; the node is theirs (see ``commands.owners``)."""
    await _known_zone(uow, data.zone_id)
    owner = owner_of_new_node(by, data)
    await ensure_external_id_free(uow.session, Node, data.external_id)
    values = data.model_dump(exclude={"owner_account_id", "owner_group_id"})
    values["latitude"], values["longitude"] = _six(data.latitude), _six(data.longitude)
    node = Node(id=uuid4(), **values, **owner.model_dump())
    uow.session.add(node)
    await uow.session.flush()
    uow.emit(
        NodeCreated(
            node_id=node.id,
            name=node.name,
            zone_id=node.zone_id,
            latitude=node.latitude,
            longitude=node.longitude,
            status=data.status,
            fields={k: v for k, v in values.items() if k not in REQUIRED and v is not None},
            owner=owner,
        )
    )
    return node


async def move_node(
    uow: UnitOfWork,
    node_id: UUID,
    latitude: float,
    longitude: float,
    *,
    by: Principal,
    if_match: str | None = None,
) -> Node:
    """Step 2 again: correct a node's location."""
    node = await managed_node(uow, node_id, by)
    check_if_match(if_match, node.version)
    node.latitude, node.longitude = _six(latitude), _six(longitude)
    touch(node)
    uow.emit(
        NodeUpdated(
            node_id=node.id, changes={"latitude": node.latitude, "longitude": node.longitude}
        )
    )
    await uow.commit()
    return node


async def update_node(
    uow: UnitOfWork, node_id: UUID, data: NodePatch, *, by: Principal, if_match: str | None = None
) -> Node:
    node = await managed_node(uow, node_id, by)
    check_if_match(if_match, node.version)
    values: dict[str, Any] = {k: getattr(data, k) for k in data.model_fields_set}
    for name in REQUIRED & values.keys():
        if values[name] is None:
            raise InvalidInput(f"{name} cannot be emptied", field=name)
    if "zone_id" in values and values["zone_id"] != node.zone_id:
        await _known_zone(uow, values["zone_id"])
    for name in ("latitude", "longitude"):
        if name in values:
            values[name] = _six(values[name])
    changes = assign(node, values)
    if changes:
        touch(node)
        uow.emit(NodeUpdated(node_id=node.id, changes=changes))
    await uow.commit()
    return node


async def delete_node(
    uow: UnitOfWork, node_id: UUID, *, by: Principal, if_match: str | None = None
) -> None:
    """A node with devices is refused: removing devices is a decision of its own."""
    node = await managed_node(uow, node_id, by)
    check_if_match(if_match, node.version)
    if await uow.session.scalar(select(exists().where(Device.node_id == node_id))):
        raise Conflict(f"node {node_id} has devices: remove them first")
    await uow.session.delete(node)
    uow.emit(NodeDeleted(node_id=node_id))
    await uow.commit()


async def get_node(uow: UnitOfWork, node_id: UUID) -> Node:
    node = await uow.get(Node, node_id, "node")
    return node


async def managed_node(uow: UnitOfWork, node_id: UUID, by: Principal) -> Node:
    """The node, if ``by`` may change it (and what is on it); else 403 saying who may."""
    node = await get_node(uow, node_id)
    await ensure_manages_node(uow.session, by, node, node_id)
    return node
