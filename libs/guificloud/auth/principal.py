"""Who is calling: the typed form of a verified access token, and the checks on it.

Roles are CONFINE's, per group: ``group_admin`` manages the group's members, nodes and
slices; ``node_admin`` (technician) the group's nodes and boxes; ``slice_admin``
(researcher) the group's slices. Ours adds ``publisher``: uploads and publishes images
in the group's name (within its image quota). Operators stand above every group: every
role check passes for them. A token minted from an API token carries ``scopes``: the
actions it may take, beyond which its holder's roles do not reach; a login's token carries
none (no restriction).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, get_args
from uuid import UUID

from guificloud.errors import Forbidden

Role = Literal["group_admin", "node_admin", "slice_admin", "publisher"]
ROLES: tuple[Role, ...] = get_args(Role)
Kind = Literal["member", "tool"]


def known_roles(values: Iterable[str]) -> list[Role]:
    """The roles among ``values`` (as stored), in a stable order."""
    return sorted(v for v in set(values) if v in ROLES)


@dataclass(frozen=True)
class Principal:
    id: UUID
    kind: Kind
    login: str
    is_operator: bool = False
    groups: Mapping[UUID, frozenset[Role]] = field(default_factory=dict)
    """Every group the caller belongs to, with its roles there (possibly none)."""
    zones: frozenset[UUID] = frozenset()
    """Zones the caller maintains, itself or through a group: each with its whole subtree
    (which the registry knows, not the identity service)."""
    scopes: frozenset[str] | None = None
    """None: no restriction beyond roles. Else the actions this token may take."""
    session_id: str | None = None
    """The refresh or API token this access token was minted from (what logout revokes)."""
    expires_at: datetime | None = None

    def in_group(self, group: UUID) -> bool:
        return group in self.groups

    def has_role(self, group: UUID, *roles: Role) -> bool:
        """True for an operator, or when the caller holds any of ``roles`` in ``group``."""
        return self.is_operator or bool(self.groups.get(group, frozenset()) & set(roles))

    def may(self, scope: str) -> bool:
        """Whether the token reaches ``scope`` (``registry.write``); ``*`` or ``registry.*``
        in its scopes cover several."""
        if self.scopes is None:
            return True
        service = scope.split(".", 1)[0]
        return bool({scope, "*", f"{service}.*"} & self.scopes)

    def maintains(self, zone: UUID) -> bool:
        """Whether ``zone`` itself is among the maintained ones (a subtree test is the
        registry's: it walks up from the zone in question)."""
        return zone in self.zones

    def ensure_operator(self) -> None:
        if not self.is_operator:
            raise Forbidden(f"operators only: {self.login} is not an operator")

    def ensure_role(self, group: UUID, *roles: Role) -> None:
        if not self.has_role(group, *roles):
            wanted = " or ".join(roles)
            raise Forbidden(f"requires role {wanted} in group {group}; {self.login} has none")

    def ensure_scope(self, scope: str) -> None:
        if not self.may(scope):
            raise Forbidden(f"this token lacks the scope {scope}")
