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
    owner: str | None = Field(None, min_length=1, max_length=200)
    external_id: ExternalId | None = None


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
    owner: str | None = Field(None, min_length=1, max_length=200)


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
    owner: str | None
    description: str | None
    created_at: datetime
    updated_at: datetime
    version: int
