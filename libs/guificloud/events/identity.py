"""Events of the identity service: accounts, groups, memberships, zone maintainers, tokens.

Other services keep read models from these (which groups may have nodes or slices, their
quotas, who holds which role) instead of asking per request. Contact data (e-mail) never
travels on the bus. ``identity.group.changed`` and ``identity.membership.changed`` carry the
whole new state of what they name, so a read model needs no earlier event to apply them.
"""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from guificloud.auth.principal import Role
from guificloud.events.envelope import Event


class Quotas(BaseModel):
    """What a group's slices and images may take in all; null: no limit."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    slivers: int | None = Field(None, ge=0, le=1_000_000)
    memory_mb: int | None = Field(None, ge=0, le=1_000_000_000)
    disk_mb: int | None = Field(None, ge=0, le=1_000_000_000)
    images: int | None = Field(None, ge=0, le=1_000_000)


class _AccountCreated(Event):
    account_id: UUID
    login: str
    display_name: str
    is_operator: bool = False


class MemberCreated(_AccountCreated):
    """A member: a person, who logs in with a password."""

    TYPE = "identity.member.created"
    SUBJECT = "identity.member.created"


class ToolCreated(_AccountCreated):
    """A tool account: another Guifi tool or a script, which uses API tokens."""

    TYPE = "identity.tool.created"
    SUBJECT = "identity.tool.created"


class _AccountChanged(Event):
    """The account's public state after a change (display name, operator, disabled)."""

    account_id: UUID
    display_name: str
    is_operator: bool
    disabled: bool


class MemberChanged(_AccountChanged):
    TYPE = "identity.member.changed"
    SUBJECT = "identity.member.changed"


class ToolChanged(_AccountChanged):
    TYPE = "identity.tool.changed"
    SUBJECT = "identity.tool.changed"


class GroupCreated(Event):
    TYPE = "identity.group.created"
    SUBJECT = "identity.group.created"

    group_id: UUID
    name: str
    allow_nodes: bool
    allow_slices: bool
    quotas: Quotas


class GroupChanged(Event):
    """The group's state after an operator or group admin changed it."""

    TYPE = "identity.group.changed"
    SUBJECT = "identity.group.changed"

    group_id: UUID
    name: str
    allow_nodes: bool
    allow_slices: bool
    quotas: Quotas


class GroupDeleted(Event):
    TYPE = "identity.group.deleted"
    SUBJECT = "identity.group.deleted"

    group_id: UUID


class MembershipChanged(Event):
    """An account's membership of a group: ``member`` false when it left (no roles then)."""

    TYPE = "identity.membership.changed"
    SUBJECT = "identity.membership.changed"

    group_id: UUID
    account_id: UUID
    member: bool
    roles: list[Role]


class MaintainerAdded(Event):
    """An account or a group maintains a zone and its subtree (exactly one of the two)."""

    TYPE = "identity.maintainer.added"
    SUBJECT = "identity.maintainer.added"

    maintainer_id: UUID
    zone_id: UUID
    account_id: UUID | None = None
    group_id: UUID | None = None


class MaintainerRemoved(Event):
    TYPE = "identity.maintainer.removed"
    SUBJECT = "identity.maintainer.removed"

    maintainer_id: UUID
    zone_id: UUID
    account_id: UUID | None = None
    group_id: UUID | None = None


class TokenRevoked(Event):
    """A refresh or API token revoked (logout, or by its owner or an operator): access
    tokens minted from it (their ``sid``) end at their expiry, or at once where a service
    keeps the revoked sessions."""

    TYPE = "identity.token.revoked"
    SUBJECT = "identity.token.revoked"

    token_id: str
    account_id: UUID
    kind: Literal["refresh", "api"]


class KeyRotated(Event):
    """A new signing key is in use; verifiers may fetch the key set now instead of at their
    next periodic refresh."""

    TYPE = "identity.key.rotated"
    SUBJECT = "identity.key.rotated"

    kid: str
