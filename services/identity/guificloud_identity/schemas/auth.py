"""Logging in, exchanging tokens, and API tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from guificloud.inputs import Int32
from guificloud_identity.schemas.common import Login


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    login: Login
    password: SecretStr = Field(max_length=1024)


class AccessOut(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int = Field(description="Seconds the access token is valid")


class LoginOut(AccessOut):
    refresh_token: str = Field(description="Exchange it at POST /api/v1/auth/token; shown once")
    refresh_expires_in: int
    account_id: UUID


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, description="What the token is for")
    scopes: list[str] = Field(min_length=1, max_length=32, description="See GET /auth/scopes")
    expires_in_days: Annotated[Int32, Field(ge=1, le=365)] = 90
    account_id: UUID | None = Field(None, description="A tool account's (operators); else yours")


class TokenOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    account_id: UUID
    kind: Literal["refresh", "api"]
    name: str | None
    scopes: list[str] | None
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenOut):
    token: str = Field(description="The whole token: shown this once, stored only as a hash")


class WhoAmI(BaseModel):
    """What the caller's access token says of them."""

    id: UUID
    kind: Literal["member", "tool"]
    login: str
    is_operator: bool
    groups: dict[UUID, list[str]]
    zones: list[UUID]
    scopes: list[str] | None
    expires_at: datetime | None
