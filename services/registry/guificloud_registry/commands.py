"""What a member does in the registry: the seed's three steps, as functions of a unit of work."""

from __future__ import annotations

from uuid import UUID, uuid4

from sqlalchemy import select

from guificloud.db.uow import UnitOfWork
from guificloud.errors import InvalidInput, NotFound
from guificloud.events.registry import DeviceAdded, Hardware, NodeCreated, NodeUpdated, ZoneCreated
from guificloud_registry.models import Device, Node, Zone
from guificloud_registry.schemas import DeviceIn, NodeIn, ZoneIn


async def create_zone(uow: UnitOfWork, data: ZoneIn) -> Zone:
    if data.parent_id is not None and await uow.session.get(Zone, data.parent_id) is None:
        raise InvalidInput(f"unknown zone {data.parent_id}", field="parent_id")
    zone = Zone(id=uuid4(), name=data.name, parent_id=data.parent_id)
    uow.session.add(zone)
    await uow.session.flush()
    uow.emit(ZoneCreated(zone_id=zone.id, name=zone.name, parent_id=zone.parent_id))
    await uow.commit()
    return zone


async def create_node(uow: UnitOfWork, data: NodeIn) -> Node:
    """Step 1 and 2 of the seed: the node's information and its place on the map."""
    if await uow.session.get(Zone, data.zone_id) is None:
        raise InvalidInput(f"unknown zone {data.zone_id}", field="zone_id")
    node = Node(
        id=uuid4(),
        name=data.name,
        zone_id=data.zone_id,
        latitude=round(data.latitude, 6),
        longitude=round(data.longitude, 6),
        status=data.status,
    )
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
        )
    )
    await uow.commit()
    await uow.session.refresh(node)
    return node


async def move_node(uow: UnitOfWork, node_id: UUID, latitude: float, longitude: float) -> Node:
    """Step 2 again: correct a node's location."""
    node = await get_node(uow, node_id)
    node.latitude, node.longitude = round(latitude, 6), round(longitude, 6)
    uow.emit(
        NodeUpdated(
            node_id=node.id, changes={"latitude": node.latitude, "longitude": node.longitude}
        )
    )
    await uow.commit()
    await uow.session.refresh(node)
    return node


async def add_device(uow: UnitOfWork, node_id: UUID, data: DeviceIn) -> Device:
    """Step 3 of the seed: a device of a cloud type starts the onboarding of a box."""
    node = await get_node(uow, node_id)
    hardware = data.hardware.model_dump() if data.hardware else None
    device = Device(id=uuid4(), node_id=node.id, name=data.name, type=data.type, hardware=hardware)
    uow.session.add(device)
    await uow.session.flush()
    uow.emit(
        DeviceAdded(
            device_id=device.id,
            node_id=node.id,
            zone_id=node.zone_id,
            name=device.name,
            type=device.type,
            hardware=data.hardware,
        )
    )
    await uow.commit()
    return device


async def get_node(uow: UnitOfWork, node_id: UUID) -> Node:
    node = await uow.session.get(Node, node_id)
    if node is None:
        raise NotFound(f"node {node_id} not found")
    return node


async def get_zone(uow: UnitOfWork, zone_id: UUID) -> Zone:
    zone = await uow.session.get(Zone, zone_id)
    if zone is None:
        raise NotFound(f"zone {zone_id} not found")
    return zone


async def get_device(uow: UnitOfWork, device_id: UUID) -> Device:
    device = await uow.session.get(Device, device_id)
    if device is None:
        raise NotFound(f"device {device_id} not found")
    return device


async def list_devices(uow: UnitOfWork, node_id: UUID) -> list[Device]:
    await get_node(uow, node_id)
    rows = await uow.session.scalars(
        select(Device).where(Device.node_id == node_id).order_by(Device.created_at)
    )
    return list(rows)


def hardware_of(device: Device) -> Hardware | None:
    return Hardware.model_validate(device.hardware) if device.hardware else None
