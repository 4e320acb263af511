"""What the identity service's API takes and returns, one module per kind of record."""

from guificloud_identity.schemas.accounts import (
    MemberIn,
    MemberOut,
    MemberPatch,
    PasswordChange,
    ToolIn,
    ToolOut,
    ToolPatch,
)
from guificloud_identity.schemas.auth import (
    AccessOut,
    LoginIn,
    LoginOut,
    TokenCreated,
    TokenIn,
    TokenOut,
    WhoAmI,
)
from guificloud_identity.schemas.groups import (
    Allowances,
    GroupIn,
    GroupOut,
    GroupPatch,
    MaintainerIn,
    MaintainerOut,
    MembershipIn,
    MembershipOut,
    QuotasIn,
    quotas_of,
)

__all__ = [
    "AccessOut",
    "Allowances",
    "GroupIn",
    "GroupOut",
    "GroupPatch",
    "LoginIn",
    "LoginOut",
    "MaintainerIn",
    "MaintainerOut",
    "MemberIn",
    "MemberOut",
    "MemberPatch",
    "MembershipIn",
    "MembershipOut",
    "PasswordChange",
    "QuotasIn",
    "TokenCreated",
    "TokenIn",
    "TokenOut",
    "ToolIn",
    "ToolOut",
    "ToolPatch",
    "WhoAmI",
    "quotas_of",
]
