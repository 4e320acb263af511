"""Services on a device: the directory where members find what runs inside the network."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator

from guificloud.events.registry import SERVICE_TYPES, NodeStatus
from guificloud.inputs import Int32
from guificloud_registry.schemas.common import Description, ExternalId, Name

_BY_LOWER = {t.lower(): t for t in SERVICE_TYPES}


def canonical_service_type(value: str | None) -> str | None:
    """guifi.net spells its types in mixed case (``DNS``, ``SNPgraphs``); accept any case."""
    if value is None:
        return None
    found = _BY_LOWER.get(value.lower())
    if found is None:
        raise ValueError(
            f"unknown service type {value!r}; known types: {', '.join(sorted(SERVICE_TYPES))}"
        )
    return found


Host = Annotated[str, Field(min_length=1, max_length=255, pattern=r"^[A-Za-z0-9.\-:\[\]]+$")]
Port = Annotated[Int32, Field(ge=1, le=65_535)]


class ServiceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str = Field(description="A guifi.net service type or one of the cloud's own")
    name: Name
    host: Host | None = None
    port: Port | None = None
    status: NodeStatus = "Working"
    description: Description | None = None
    external_id: ExternalId | None = None

    _type = field_validator("type")(canonical_service_type)


class ServicePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str | None = None
    name: Name | None = None
    host: Host | None = None
    port: Port | None = None
    status: NodeStatus | None = None
    description: Description | None = None

    _type = field_validator("type")(canonical_service_type)


class ServiceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    external_id: int | None
    device_id: UUID
    type: str
    name: str
    host: str | None
    port: int | None
    status: str
    description: str | None
    created_at: datetime
    updated_at: datetime
    version: int
