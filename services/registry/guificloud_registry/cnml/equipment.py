"""Radios, interfaces (with their addresses) and links of an import. Links are resolved
against every device and interface the registry holds once this file's are written."""

from __future__ import annotations

from collections import defaultdict
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from guificloud_registry.cnml.bulk import among, copy_rows, update_rows
from guificloud_registry.cnml.plan import Plan, flush
from guificloud_registry.cnml.records import Document, Key
from guificloud_registry.models import Address, Device, Interface, Link, Radio


async def import_radios(
    session: AsyncSession, doc: Document, devices: dict[Key, UUID], plan: Plan
) -> dict[tuple[Key, int], UUID]:
    device_ids = {devices[r.device] for r in doc.radios}
    stored = {
        (row["device_id"], row["ordinal"]): row
        for row in (
            await session.execute(select(Radio.__table__).where(among(Radio.device_id, device_ids)))
        ).mappings()
    }
    ids: dict[tuple[Key, int], UUID] = {}
    for record in doc.radios:
        device_id = devices[record.device]
        row = stored.get((device_id, record.ordinal))
        values = {**record.fields, "device_id": device_id, "ordinal": record.ordinal}
        if row is None:
            radio_id = uuid4()
            plan.create(radio_id, values, None)
        else:
            radio_id = row["id"]
            plan.reconcile(row, values, None)
        ids[(record.device, record.ordinal)] = radio_id
    return ids


async def import_interfaces(
    session: AsyncSession,
    doc: Document,
    devices: dict[Key, UUID],
    radios: dict[tuple[Key, int], UUID],
    plan: Plan,
) -> dict[int, UUID]:
    records = list(doc.interfaces.values())
    stored = {
        row["external_id"]: row
        for row in (
            await session.execute(
                select(Interface.__table__).where(
                    among(Interface.external_id, [r.ext for r in records])
                )
            )
        ).mappings()
    }
    addresses: dict[UUID, dict[str, str | None]] = defaultdict(dict)
    if stored:
        ids_stored = [row["id"] for row in stored.values()]
        for a in await session.execute(
            select(Address.__table__).where(among(Address.interface_id, ids_stored))
        ):
            addresses[a.interface_id][a.ipv4] = a.mask
    ids: dict[int, UUID] = {}
    replaced: list[UUID] = []
    new_addresses: list[dict[str, Any]] = []
    for record in records:
        radio = None
        if record.radio_ordinal is not None:
            radio = radios.get((record.device, record.radio_ordinal))
        values = {
            **record.fields,
            "device_id": devices[record.device],
            "radio_id": radio,
            "external_id": record.ext,
        }
        listed = [{"ipv4": ip, "mask": mask} for ip, mask in record.addresses.items()]
        row = stored.get(record.ext)
        if row is None:
            interface_id = uuid4()
            plan.create(interface_id, {**values, "addresses": listed}, record.ext)
            fresh = True
        else:
            interface_id = row["id"]
            same = addresses.get(row["id"], {}) == record.addresses
            plan.reconcile(row, values, record.ext, None if same else {"addresses": listed})
            fresh = not same
            if fresh:
                replaced.append(row["id"])
        if fresh:
            new_addresses += [{"interface_id": interface_id, **a} for a in listed]
        ids[record.ext] = interface_id
    await copy_rows(session, plan.table, plan.inserts)
    await update_rows(session, plan.table, plan.updates, versioned=False)
    plan.inserts, plan.updates = [], []
    if replaced:
        await session.execute(delete(Address).where(among(Address.interface_id, replaced)))
    await copy_rows(session, Address.__table__, new_addresses)  # type: ignore[arg-type]
    return ids


async def import_links(session: AsyncSession, doc: Document, plan: Plan) -> None:
    """A link's ends are resolved against every device and interface the registry now has
    (this file's and earlier imports'); an end outside it keeps only its guifi.net ids."""
    records = list(doc.links.values())
    if not records:
        return
    device_exts = {end[1] for r in records for end in r.ends}
    interface_exts = {end[2] for r in records for end in r.ends if end[2] is not None}
    device_ids = dict(
        (
            await session.execute(
                select(Device.external_id, Device.id).where(among(Device.external_id, device_exts))
            )
        )
        .tuples()
        .all()
    )
    interface_ids = dict(
        (
            await session.execute(
                select(Interface.external_id, Interface.id).where(
                    among(Interface.external_id, interface_exts)
                )
            )
        )
        .tuples()
        .all()
    )
    stored = {
        row["external_id"]: row
        for row in (
            await session.execute(
                select(Link.__table__).where(among(Link.external_id, [r.ext for r in records]))
            )
        ).mappings()
    }
    for record in records:
        ends = sorted(record.ends, key=lambda e: (e[1], e[2] or 0))
        a = ends[0]
        b = ends[1] if len(ends) > 1 else (None, None, None)
        values = {
            "external_id": record.ext,
            "type": record.type,
            "status": record.status,
            "a_node_ext": a[0],
            "a_device_ext": a[1],
            "a_interface_ext": a[2],
            "a_device_id": device_ids.get(a[1]),
            "a_interface_id": interface_ids.get(a[2]),
            "b_node_ext": b[0],
            "b_device_ext": b[1],
            "b_interface_ext": b[2],
            "b_device_id": device_ids.get(b[1]),
            "b_interface_id": interface_ids.get(b[2]),
        }
        row = stored.get(record.ext)
        if row is None:
            plan.create(uuid4(), values, record.ext)
        else:
            plan.reconcile(row, values, record.ext)
    await flush(session, plan)
