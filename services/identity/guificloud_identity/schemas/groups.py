"""Groups, their members' roles, and zone maintainers."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from guificloud.auth.principal import ROLES, Role
from guificloud.events.identity import Quotas
from guificloud_identity.schemas.common import Description, Flag


class GroupIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    description: Description | None = None


class GroupPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=100)
    description: Description | None = None


class Allowances(BaseModel):
    """What an operator allows a group (CONFINE's ``allow_nodes``, ``allow_slices``)."""

    model_config = ConfigDict(extra="forbid")

    allow_nodes: Flag | None = None
    allow_slices: Flag | None = None


class QuotasIn(Quotas):
    """The quotas an operator sets: JSON integers or null only (``false`` is no 0)."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class GroupOut(BaseModel):
    id: UUID
    name: str
    description: str | None
    allow_nodes: bool
    allow_slices: bool
    quotas: Quotas
    created_at: datetime

    @model_validator(mode="before")
    @classmethod
    def _from_row(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return data
        return {
            **{k: getattr(data, k) for k in cls.model_fields if k != "quotas"},
            "quotas": quotas_of(data),
        }


def quotas_of(group: Any) -> Quotas:
    return Quotas(
        slivers=group.quota_slivers,
        memory_mb=group.quota_memory_mb,
        disk_mb=group.quota_disk_mb,
        images=group.quota_images,
    )


class MembershipIn(BaseModel):
    """The account's roles in the group (none: a plain member)."""

    model_config = ConfigDict(extra="forbid")

    roles: list[Role] = Field(default_factory=list, max_length=len(ROLES))


class MembershipOut(BaseModel):
    group_id: UUID
    account_id: UUID
    login: str
    display_name: str
    roles: list[Role]


class MaintainerIn(BaseModel):
    """Exactly one of ``account_id`` and ``group_id``."""

    model_config = ConfigDict(extra="forbid")

    zone_id: UUID
    account_id: UUID | None = None
    group_id: UUID | None = None

    @model_validator(mode="after")
    def _one(self) -> MaintainerIn:
        if (self.account_id is None) == (self.group_id is None):
            raise ValueError("name exactly one of account_id and group_id")
        return self


class MaintainerOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    zone_id: UUID
    account_id: UUID | None
    group_id: UUID | None
    created_at: datetime
