"""Reading a device's radios, interfaces and links (what CNML carries about the network)."""

from __future__ import annotations

from collections import defaultdict
from uuid import UUID

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from guificloud_registry.models import Address, Device, Interface, Link, Radio
from guificloud_registry.schemas import AddressOut, InterfaceOut, LinkEnd, LinkOut, RadioOut


async def radios_of(session: AsyncSession, device_id: UUID) -> list[RadioOut]:
    rows = await session.scalars(
        select(Radio).where(Radio.device_id == device_id).order_by(Radio.ordinal)
    )
    return [RadioOut.model_validate(r) for r in rows]


async def interfaces_of(session: AsyncSession, device_id: UUID) -> list[InterfaceOut]:
    interfaces = list(
        await session.scalars(
            select(Interface)
            .where(Interface.device_id == device_id)
            .order_by(Interface.external_id, Interface.id)
        )
    )
    addresses: dict[UUID, list[AddressOut]] = defaultdict(list)
    if interfaces:
        rows = await session.scalars(
            select(Address)
            .where(Address.interface_id.in_([i.id for i in interfaces]))
            .order_by(Address.ipv4)
        )
        for a in rows:
            addresses[a.interface_id].append(AddressOut.model_validate(a))
    return [
        InterfaceOut(
            id=i.id,
            external_id=i.external_id,
            radio_id=i.radio_id,
            type=i.type,
            mac=i.mac,
            addresses=addresses[i.id],
        )
        for i in interfaces
    ]


async def links_of(
    session: AsyncSession, *, device_id: UUID | None = None, node_id: UUID | None = None
) -> list[LinkOut]:
    """Links with an end on the device, or on any device of the node."""
    devices = (
        [device_id]
        if device_id is not None
        else list(await session.scalars(select(Device.id).where(Device.node_id == node_id)))
    )
    if not devices:
        return []
    rows = await session.scalars(
        select(Link)
        .where(or_(Link.a_device_id.in_(devices), Link.b_device_id.in_(devices)))
        .order_by(Link.external_id, Link.id)
    )
    return [link_out(link) for link in rows]


def link_out(link: Link) -> LinkOut:
    return LinkOut(
        id=link.id,
        external_id=link.external_id,
        type=link.type,
        status=link.status,
        ends=(
            LinkEnd(
                device_id=link.a_device_id,
                interface_id=link.a_interface_id,
                guifi_node_id=link.a_node_ext,
                guifi_device_id=link.a_device_ext,
                guifi_interface_id=link.a_interface_ext,
            ),
            LinkEnd(
                device_id=link.b_device_id,
                interface_id=link.b_interface_id,
                guifi_node_id=link.b_node_ext,
                guifi_device_id=link.b_device_ext,
                guifi_interface_id=link.b_interface_ext,
            ),
        ),
    )
