"""Devices: step 3 of the seed; a device of a cloud type starts the onboarding of a box."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import select

from guificloud.auth import Principal
from guificloud.db.uow import UnitOfWork
from guificloud.errors import InvalidInput
from guificloud.events.registry import (
    CLOUD_DEVICE_TYPES,
    DeviceAdded,
    DeviceRemoved,
    DeviceUpdated,
    Hardware,
)
from guificloud_registry.access import ownership
from guificloud_registry.commands.changes import assign, ensure_external_id_free, touch
from guificloud_registry.commands.nodes import get_node, managed_node
from guificloud_registry.commands.owners import ensure_may_have_cloud_box
from guificloud_registry.conditional import check_if_match
from guificloud_registry.models import Device
from guificloud_registry.schemas import DeviceIn, DevicePatch


def _columns(data: DeviceIn | DevicePatch, fields: set[str]) -> dict[str, Any]:
    values: dict[str, Any] = {k: getattr(data, k) for k in fields}
    if "main_ipv4" in values and values["main_ipv4"] is not None:
        values["main_ipv4"] = str(values["main_ipv4"])
    if "hardware" in values and values["hardware"] is not None:
        values["hardware"] = values["hardware"].model_dump()
    return values


async def add_device(uow: UnitOfWork, node_id: UUID, data: DeviceIn, *, by: Principal) -> Device:
    node = await managed_node(uow, node_id, by)
    if data.type in CLOUD_DEVICE_TYPES:
        await ensure_may_have_cloud_box(uow.session, by, node.id, node.owner_group_id)
    await ensure_external_id_free(uow.session, Device, data.external_id)
    values = _columns(data, set(DeviceIn.model_fields))
    device = Device(id=uuid4(), node_id=node.id, **values)
    uow.session.add(device)
    await uow.session.flush()
    extra = {
        k: v for k, v in values.items() if k not in {"name", "type", "hardware"} and v is not None
    }
    uow.emit(
        DeviceAdded(
            device_id=device.id,
            node_id=node.id,
            zone_id=node.zone_id,
            name=device.name,
            type=device.type,
            hardware=data.hardware,
            fields=extra,
            owner=ownership(node),
        )
    )
    return device


async def update_device(
    uow: UnitOfWork,
    device_id: UUID,
    data: DevicePatch,
    *,
    by: Principal,
    if_match: str | None = None,
) -> Device:
    device = await managed_device(uow, device_id, by)
    check_if_match(if_match, device.version)
    values = _columns(data, set(data.model_fields_set))
    for name in ("name", "type", "status"):
        if name in values and values[name] is None:
            raise InvalidInput(f"{name} cannot be emptied", field=name)
    kind = values.get("type", device.type)
    hardware = values["hardware"] if "hardware" in values else device.hardware
    if kind in CLOUD_DEVICE_TYPES and hardware is None:
        raise InvalidInput(
            f"a {kind!r} device is a cloud box: "
            "hardware (arch, cores, ram_mb, disk_gb) is required",
            field="hardware",
        )
    if kind in CLOUD_DEVICE_TYPES and device.type not in CLOUD_DEVICE_TYPES:
        node = await get_node(uow, device.node_id)
        await ensure_may_have_cloud_box(uow.session, by, node.id, node.owner_group_id)
    changes = assign(device, values)
    if changes:
        touch(device)
        uow.emit(DeviceUpdated(device_id=device.id, node_id=device.node_id, changes=changes))
    await uow.commit()
    return device


async def remove_device(
    uow: UnitOfWork, device_id: UUID, *, by: Principal, if_match: str | None = None
) -> None:
    """The device goes with its radios, interfaces and services; links keep the other end."""
    device = await managed_device(uow, device_id, by)
    check_if_match(if_match, device.version)
    await uow.session.delete(device)
    uow.emit(DeviceRemoved(device_id=device.id, node_id=device.node_id, type=device.type))
    await uow.commit()


async def get_device(uow: UnitOfWork, device_id: UUID) -> Device:
    device = await uow.get(Device, device_id, "device")
    return device


async def managed_device(uow: UnitOfWork, device_id: UUID, by: Principal) -> Device:
    """The device, if ``by`` may change its node; else 403 saying who may."""
    device = await get_device(uow, device_id)
    await managed_node(uow, device.node_id, by)
    return device


async def list_devices(uow: UnitOfWork, node_id: UUID) -> list[Device]:
    await get_node(uow, node_id)
    rows = await uow.session.scalars(
        select(Device).where(Device.node_id == node_id).order_by(Device.created_at, Device.id)
    )
    return list(rows)


def hardware_of(device: Device) -> Hardware | None:
    return Hardware.model_validate(device.hardware) if device.hardware else None
