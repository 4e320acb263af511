"""Members (people) and tool accounts (other Guifi tools, scripts).

A member's e-mail is contact data: it is shown to the member, to the admins of the member's
groups and to operators; anyone else gets ``null``.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, SecretStr

from guificloud_identity.schemas.common import (
    Description,
    DisplayName,
    Email,
    Flag,
    Login,
    Password,
)


class MemberIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    login: Login
    display_name: DisplayName
    email: Email | None = None
    password: Password
    is_operator: Flag = False


class MemberPatch(BaseModel):
    """Only the fields sent change; ``is_operator`` and ``disabled`` are for operators."""

    model_config = ConfigDict(extra="forbid")

    display_name: DisplayName | None = None
    email: Email | None = None
    is_operator: Flag | None = None
    disabled: Flag | None = None


class PasswordChange(BaseModel):
    """The member's own change needs the current password; an operator's reset does not."""

    model_config = ConfigDict(extra="forbid")

    current_password: SecretStr | None = None
    new_password: Password


class MemberOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    login: str
    display_name: str
    email: str | None
    is_operator: bool
    disabled: bool
    created_at: datetime


class ToolIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    login: Login
    display_name: DisplayName
    description: Description | None = None


class ToolPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    display_name: DisplayName | None = None
    description: Description | None = None
    disabled: Flag | None = None


class ToolOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    login: str
    display_name: str
    description: str | None
    disabled: bool
    created_at: datetime
