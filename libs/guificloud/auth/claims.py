"""The access token's claims: the contract between the identity service that signs them and
every service that reads them.

Registered claims: ``iss``, ``sub`` (the account id), ``aud`` (:data:`AUDIENCE`), ``iat``,
``exp``, ``jti``. Ours: ``kind`` (member or tool), ``login``, ``is_operator``, ``groups``
(group id to its roles), ``zones`` (maintained zone ids), ``scopes`` (only when limited)
and ``sid`` (the refresh or API token the access token came from).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, cast
from uuid import UUID

from guificloud.auth.principal import ROLES, Principal, Role

AUDIENCE = "guifi-cloud"
ISSUER = "guifi-cloud-identity"
ALGORITHM = "EdDSA"


class ClaimsError(ValueError):
    """Claims that verified but do not have the shape this contract gives them."""


def to_claims(principal: Principal, *, issued_at: int, expires_at: int, jti: str) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "sub": str(principal.id),
        "aud": AUDIENCE,
        "iat": issued_at,
        "exp": expires_at,
        "jti": jti,
        "kind": principal.kind,
        "login": principal.login,
        "is_operator": principal.is_operator,
        "groups": {str(g): sorted(roles) for g, roles in principal.groups.items()},
        "zones": sorted(str(z) for z in principal.zones),
    }
    if principal.scopes is not None:
        claims["scopes"] = sorted(principal.scopes)
    if principal.session_id is not None:
        claims["sid"] = principal.session_id
    return claims


def _roles(value: Any) -> frozenset[Role]:
    if not isinstance(value, list) or not all(r in ROLES for r in value):
        raise ClaimsError(f"unknown roles {value!r}")
    return frozenset(cast(list[Role], value))


def from_claims(claims: Mapping[str, Any]) -> Principal:
    try:
        kind = claims["kind"]
        if kind not in ("member", "tool"):
            raise ClaimsError(f"unknown kind {kind!r}")
        groups = claims.get("groups", {})
        scopes = claims.get("scopes")
        return Principal(
            id=UUID(claims["sub"]),
            kind=kind,
            login=str(claims.get("login", "")),
            is_operator=claims.get("is_operator") is True,
            groups={UUID(g): _roles(roles) for g, roles in groups.items()},
            zones=frozenset(UUID(z) for z in claims.get("zones", [])),
            scopes=None if scopes is None else frozenset(str(s) for s in scopes),
            session_id=claims.get("sid"),
            expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ClaimsError(f"claims of an unexpected shape: {exc}") from exc
