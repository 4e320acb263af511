"""Who may change what in the registry (the README's "Who may do what"), as checks the
commands call with the caller.

A node is managed by its owners (the owning account; a ``group_admin`` or ``node_admin`` of
the owning group), by the maintainers of its zone or of any zone above it, and by operators:
they change it and add, change and remove its devices and services. A zone is managed by
the maintainers of it or of a zone above it, and by operators. Every change also needs the
token's ``registry.write`` scope (checked by the routes).

The caller's token lists the zones it maintains; "or a zone above" is the registry's to
decide, and the zone's materialized path (``/<root hex>/.../<zone hex>/``) names the zone and
every ancestor: the walk up the tree is a look at the path.
"""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from guificloud.auth import Principal, Role
from guificloud.errors import Forbidden
from guificloud.events.registry import Ownership
from guificloud_registry.models import Zone

WRITE = "registry.write"
READ_CONTACTS = "registry.read"
NODE_ROLES: tuple[Role, ...] = ("group_admin", "node_admin")


class Owned(Protocol):
    """A node as stored or as answered: what says who manages it."""

    @property
    def zone_id(self) -> UUID: ...
    @property
    def owner_account_id(self) -> UUID | None: ...
    @property
    def owner_group_id(self) -> UUID | None: ...


def ownership(node: Owned) -> Ownership:
    return Ownership(owner_account_id=node.owner_account_id, owner_group_id=node.owner_group_id)


def owns(principal: Principal, node: Owned) -> bool:
    """The caller is the owning account or a group or node admin of the owning group."""
    if node.owner_account_id is not None and node.owner_account_id == principal.id:
        return True
    group = node.owner_group_id
    return group is not None and bool(principal.groups.get(group, frozenset()) & set(NODE_ROLES))


def maintains(principal: Principal, path: str) -> bool:
    """The caller maintains the zone at ``path`` or a zone above it."""
    if not principal.zones:
        return False
    return not {z.hex for z in principal.zones}.isdisjoint(path.strip("/").split("/"))


async def zone_path(session: AsyncSession, zone_id: UUID) -> str:
    path = await session.scalar(select(Zone.path).where(Zone.id == zone_id))
    return path or ""


async def manages_node(session: AsyncSession, principal: Principal, node: Owned) -> bool:
    if principal.is_operator or owns(principal, node):
        return True
    return bool(principal.zones) and maintains(principal, await zone_path(session, node.zone_id))


async def ensure_manages_node(
    session: AsyncSession, principal: Principal, node: Owned, node_id: UUID
) -> None:
    if await manages_node(session, principal, node):
        return
    wanted = "owning it"
    if node.owner_group_id is not None:
        wanted += f", role {' or '.join(NODE_ROLES)} in group {node.owner_group_id}"
    raise Forbidden(
        f"node {node_id} is changed by its owners, maintainers of zone {node.zone_id} or a zone "
        f"above it, and operators: requires {wanted} or maintaining its zone; "
        f"{principal.login} has none of these"
    )


def ensure_manages_zone(principal: Principal, zone_id: UUID, path: str, doing: str) -> None:
    """``doing`` (e.g. "change zone X") needs maintaining the zone at ``path`` or one above."""
    if principal.is_operator or maintains(principal, path):
        return
    raise Forbidden(
        f"{doing}: requires maintaining zone {zone_id} or a zone above it, or being an "
        f"operator; {principal.login} is neither"
    )


def ensure_operator_for_top_zone(principal: Principal, doing: str) -> None:
    if not principal.is_operator:
        raise Forbidden(f"{doing}: a zone at the top of the tree is for operators only")
