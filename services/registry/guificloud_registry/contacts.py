"""Contact data: the one thing of the registry that is not public (guifi.net's map is).

A node's ``owner`` text says who runs it and how to reach them. It is answered to the
node's owners, the maintainers of its zone (or a zone above) and operators, when their token
has the ``registry.read`` scope; to everyone else (anonymous callers included) it is null.
Lists decide node by node, with one query for the zones of the nodes that have contact
data and that the caller does not own (none for most: guifi.net's exports carry none).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from guificloud.auth import Principal
from guificloud_registry.access import READ_CONTACTS, Owned, maintains, owns
from guificloud_registry.models import Zone


class WithContact(Owned, Protocol):
    """A node as stored or as answered, with its contact data."""

    @property
    def owner(self) -> str | None: ...


Shown = Callable[[WithContact], bool]


def _none(_node: WithContact) -> bool:
    return False


def _all(_node: WithContact) -> bool:
    return True


async def contact_shown(
    session: AsyncSession, principal: Principal | None, nodes: Iterable[WithContact]
) -> Shown:
    """Whether the caller sees the contact data of each of ``nodes`` (and only those)."""
    if principal is None or not principal.may(READ_CONTACTS):
        return _none
    if principal.is_operator:
        return _all
    caller = principal
    paths: dict[UUID, str] = {}
    if caller.zones:
        zone_ids = {n.zone_id for n in nodes if n.owner is not None and not owns(caller, n)}
        if zone_ids:
            rows = await session.execute(select(Zone.id, Zone.path).where(Zone.id.in_(zone_ids)))
            paths = {row.id: row.path for row in rows}

    def shown(node: WithContact) -> bool:
        return owns(caller, node) or maintains(caller, paths.get(node.zone_id, ""))

    return shown
