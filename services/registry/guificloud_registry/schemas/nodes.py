"""Nodes: the locations of guifi.net, where devices are."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from guificloud.events.registry import NodeStatus
from guificloud.inputs import Int32
from guificloud_registry.schemas.common import (
    Description,
    ExternalId,
    Latitude,
    Longitude,
    Name,
    Nick,
)

Contact = Annotated[
    str,
    Field(
        min_length=1,
        max_length=200,
        description="Who runs the node and how to reach them: contact data, answered only to "
        "the node's owners, its zone's maintainers and operators (null to others)",
    ),
]
Elevation = Annotated[
    Int32, Field(ge=-500, le=10_000, description="Metres of the antennas above the ground")
]


class NodeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name = Field(description="guifi.net's title of the node")
    zone_id: UUID
    latitude: Latitude
    longitude: Longitude
    status: NodeStatus = "Planned"
    nick: Nick | None = None
    elevation: Elevation | None = None
    description: Description | None = None
    owner: Contact | None = None
    external_id: ExternalId | None = None
    owner_group_id: UUID | None = Field(
        None,
        description="The group the node belongs to besides its creator: the caller must be "
        "its group_admin or node_admin. A cloud box needs a group that may have nodes.",
    )
    owner_account_id: UUID | None = Field(
        None,
        description="Operators only: the account the node belongs to (else the caller's; "
        "null for none).",
    )


class NodePatch(BaseModel):
    """Only the fields sent change."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    zone_id: UUID | None = None
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    status: NodeStatus | None = None
    nick: Nick | None = None
    elevation: Elevation | None = None
    description: Description | None = None
    owner: Contact | None = None


class LocationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    latitude: Latitude
    longitude: Longitude


class NodeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    external_id: int | None
    name: str
    nick: str | None
    zone_id: UUID
    latitude: float
    longitude: float
    elevation: int | None
    status: NodeStatus
    owner: str | None = Field(
        description="Contact data: null unless the caller owns the node, maintains its zone "
        "or is an operator (with the registry.read scope)"
    )
    owner_account_id: UUID | None
    owner_group_id: UUID | None
    description: str | None
    created_at: datetime
    updated_at: datetime
    version: int


class OwnerIn(BaseModel):
    """The node's owners as a whole (both fields: null for none)."""

    model_config = ConfigDict(extra="forbid")

    owner_account_id: UUID | None = Field(
        description="Operators may name any account; others themselves, the current one or null"
    )
    owner_group_id: UUID | None = Field(
        description="A group the caller is group_admin or node_admin of, the current one or null"
    )
