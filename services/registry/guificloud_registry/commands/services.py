"""Services on a device: what members publish in the directory."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from guificloud.auth import Principal
from guificloud.db.uow import UnitOfWork
from guificloud.errors import InvalidInput
from guificloud.events.registry import ServiceAdded, ServiceRemoved, ServiceUpdated
from guificloud_registry.commands.changes import assign, ensure_external_id_free, touch
from guificloud_registry.commands.devices import managed_device
from guificloud_registry.conditional import check_if_match
from guificloud_registry.models import Service
from guificloud_registry.schemas import ServiceIn, ServicePatch


async def add_service(
    uow: UnitOfWork, device_id: UUID, data: ServiceIn, *, by: Principal
) -> Service:
    device = await managed_device(uow, device_id, by)
    await ensure_external_id_free(uow.session, Service, data.external_id)
    values = data.model_dump()
    service = Service(id=uuid4(), device_id=device.id, **values)
    uow.session.add(service)
    await uow.session.flush()
    uow.emit(
        ServiceAdded(
            service_id=service.id,
            device_id=device.id,
            type=service.type,
            name=service.name,
            fields={k: v for k, v in values.items() if k not in {"type", "name"} and v is not None},
        )
    )
    return service


async def update_service(
    uow: UnitOfWork,
    service_id: UUID,
    data: ServicePatch,
    *,
    by: Principal,
    if_match: str | None = None,
) -> Service:
    service = await managed_service(uow, service_id, by)
    check_if_match(if_match, service.version)
    values: dict[str, Any] = {k: getattr(data, k) for k in data.model_fields_set}
    for name in ("type", "name", "status"):
        if name in values and values[name] is None:
            raise InvalidInput(f"{name} cannot be emptied", field=name)
    changes = assign(service, values)
    if changes:
        touch(service)
        uow.emit(ServiceUpdated(service_id=service.id, changes=changes))
    await uow.commit()
    return service


async def remove_service(
    uow: UnitOfWork, service_id: UUID, *, by: Principal, if_match: str | None = None
) -> None:
    service = await managed_service(uow, service_id, by)
    check_if_match(if_match, service.version)
    await uow.session.delete(service)
    uow.emit(ServiceRemoved(service_id=service.id, device_id=service.device_id))
    await uow.commit()


async def get_service(uow: UnitOfWork, service_id: UUID) -> Service:
    service = await uow.get(Service, service_id, "service")
    return service


async def managed_service(uow: UnitOfWork, service_id: UUID, by: Principal) -> Service:
    """The service, if ``by`` may change the node it runs on; else 403 saying who may."""
    service = await get_service(uow, service_id)
    await managed_device(uow, service.device_id, by)
    return service
