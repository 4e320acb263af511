"""Zones: a tree (parent), with the settings guifi.net keeps per zone."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from guificloud_registry.schemas.common import (
    Description,
    ExternalId,
    Latitude,
    Longitude,
    Name,
    Nick,
)

Server = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9.:\-]+$")]


class Box(BaseModel):
    """Bounding box of a zone (what the map shows first)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_lon: Longitude
    min_lat: Latitude
    max_lon: Longitude
    max_lat: Latitude

    @model_validator(mode="after")
    def _ordered(self) -> Box:
        if self.min_lon > self.max_lon or self.min_lat > self.max_lat:
            raise ValueError("min_lon/min_lat must not exceed max_lon/max_lat")
        return self


class _ZoneFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    nick: Nick | None = None
    time_zone: str | None = Field(None, max_length=32, description="guifi.net's, e.g. '+01 2 2'")
    box: Box | None = None
    dns_servers: list[Server] | None = Field(None, max_length=16)
    ntp_servers: list[Server] | None = Field(None, max_length=16)
    graph_server: ExternalId | None = Field(None, description="guifi.net id of its graph service")
    description: Description | None = None


class ZoneIn(_ZoneFields):
    name: Name = Field(description="guifi.net's title of the zone")
    parent_id: UUID | None = None
    external_id: ExternalId | None = None


class ZonePatch(_ZoneFields):
    """Only the fields sent change; ``parent_id`` moves the zone (null: to the top)."""

    name: Name | None = None
    parent_id: UUID | None = None


class ZoneOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    external_id: int | None
    name: str
    nick: str | None
    parent_id: UUID | None
    time_zone: str | None
    box: Box | None
    dns_servers: list[str] | None
    ntp_servers: list[str] | None
    graph_server: int | None
    description: str | None
    created_at: datetime
    updated_at: datetime
    version: int

    @model_validator(mode="before")
    @classmethod
    def _box_from_columns(cls, data: Any) -> Any:
        if isinstance(data, dict) or not hasattr(data, "min_lon"):
            return data
        values = {k: getattr(data, k) for k in cls.model_fields if k != "box"}
        if data.min_lon is not None:
            values["box"] = Box(
                min_lon=data.min_lon,
                min_lat=data.min_lat,
                max_lon=data.max_lon,
                max_lat=data.max_lat,
            )
        else:
            values["box"] = None
        return values
