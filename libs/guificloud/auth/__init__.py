"""Who calls, checked offline: access tokens of the identity service verified against its
published keys, as a typed :class:`Principal`, with FastAPI dependencies for every route.

Revocation and logout take effect within an access token's lifetime (ten minutes by default,
``GUIFICLOUD_IDENTITY_ACCESS_TOKEN_TTL_S``): a service that keeps no read model of revoked
sessions accepts an access token until it expires; the next refresh is refused.
"""

from guificloud.auth.claims import AUDIENCE, ISSUER
from guificloud.auth.dependencies import (
    OperatorDep,
    OptionalPrincipalDep,
    PrincipalDep,
    install_verifier,
    require_operator,
    require_role,
    require_scope,
)
from guificloud.auth.keys import KeySet, KeysUnavailable, http_jwks
from guificloud.auth.principal import ROLES, Principal, Role
from guificloud.auth.verifier import TokenRejected, Verifier

__all__ = [
    "AUDIENCE",
    "ISSUER",
    "ROLES",
    "KeySet",
    "KeysUnavailable",
    "OperatorDep",
    "OptionalPrincipalDep",
    "Principal",
    "PrincipalDep",
    "Role",
    "TokenRejected",
    "Verifier",
    "http_jwks",
    "install_verifier",
    "require_operator",
    "require_role",
    "require_scope",
]
