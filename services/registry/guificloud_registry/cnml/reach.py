"""Where a zone maintainer's CNML import reaches (operators import anywhere).

Every stored record the file names must lie in a subtree the caller maintains (a zone; a
node, device or service by the zone of its node), so an import can neither change nor move
a record from elsewhere; and every top zone of the file must land in such a subtree (a new
one, or one moved, under a parent the caller maintains). Checked in the import's
transaction under the tree lock, so no move can slip in between.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from guificloud.auth import Principal
from guificloud.db.uow import UnitOfWork
from guificloud.errors import Forbidden
from guificloud_registry.access import maintains
from guificloud_registry.cnml.bulk import among
from guificloud_registry.cnml.records import Document, Record
from guificloud_registry.commands.zones import lock_tree
from guificloud_registry.models import Device, Node, Service, Zone

HEX = 32  # a zone's segment of a path, without its slash


def _named(model: Any, records: Sequence[Record]) -> Any:
    exts = [r.ext for r in records if r.ext is not None]
    uuids = [r.uuid for r in records if r.uuid is not None]
    return or_(among(model.external_id, exts), among(model.id, uuids))


@dataclass(frozen=True)
class Reach:
    principal: Principal
    zones_before: dict[UUID, str]

    @classmethod
    async def before(cls, uow: UnitOfWork, principal: Principal, doc: Document) -> Reach:
        """Refuse (403) a file naming a stored record outside the caller's subtrees."""
        await lock_tree(uow)
        session = uow.session
        zones = {
            row.id: row.path
            for row in await session.execute(
                select(Zone.id, Zone.path).where(_named(Zone, doc.zones))
            )
        }
        for zone_id, path in zones.items():
            _ensure(principal, path, f"zone {zone_id}")
        in_zone = select(Node.id, Zone.id, Zone.path).join(Zone, Node.zone_id == Zone.id)
        device = in_zone.add_columns(Device.id).join(Device, Device.node_id == Node.id)
        service = device.add_columns(Service.id).join(Service, Service.device_id == Device.id)
        placed = (
            ("node", Node, doc.nodes, in_zone),
            ("device", Device, doc.devices, device),
            ("service", Service, doc.services, service),
        )
        for what, model, records, query in placed:
            if records:
                for row in await session.execute(query.where(_named(model, records))):
                    _ensure(principal, row[2], f"{what} {row[-1]} (in zone {row[1]})")
        return cls(principal, zones)

    async def after(self, session: AsyncSession, roots: Sequence[UUID]) -> None:
        """Refuse (403) a top zone placed, or moved, under a parent the caller does not
        maintain; the caller then rolls the import back."""
        rows = await session.execute(select(Zone.id, Zone.path).where(among(Zone.id, roots)))
        now = {row.id: row.path for row in rows}
        for root in roots:
            path = now[root]
            if self.zones_before.get(root) == path:
                continue
            parent = path[: -(HEX + 1)]
            if parent == "/":
                raise Forbidden(
                    f"CNML import: zone {root} would be at the top of the tree, which is for "
                    "operators only (give the file's top zone a parent_id you maintain)"
                )
            _ensure(self.principal, parent, f"zone {root} (placed under its parent)")


def _ensure(principal: Principal, path: str, what: str) -> None:
    if not maintains(principal, path):
        raise Forbidden(
            f"CNML import: {what} lies outside the zones {principal.login} maintains; importing "
            "it is for maintainers of its zone or a zone above it, and operators"
        )
