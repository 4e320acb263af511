"""FastAPI dependencies: who calls (``PrincipalDep``) and what they must be (``require_*``).

Each declares the HTTP bearer security scheme, so every route using one documents it in
OpenAPI. A service gives its verifier once, in ``create_app``::

    install_verifier(app, Verifier(KeySet(http_jwks(settings.identity_url))))

Refusals: no credentials, 401 with ``WWW-Authenticate: Bearer``; a token that is expired,
forged, signed by an unknown key, for another audience or revoked, 401 saying which (and
``error="invalid_token"``); a known caller without the role, right or scope, 403 naming it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated
from uuid import UUID

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from guificloud.auth.keys import KeysUnavailable
from guificloud.auth.principal import Principal, Role
from guificloud.auth.verifier import TokenRejected, Verifier
from guificloud.errors import InvalidInput

REALM = "guifi-cloud"

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    bearerFormat="JWT",
    description=(
        "An access token of the identity service: `POST /api/v1/auth/login` (people) or "
        "`POST /api/v1/auth/token` with an API token (tools); `guificloud login` keeps one."
    ),
)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def get_verifier() -> Verifier:
    raise RuntimeError("no verifier: the service's create_app must call install_verifier")


def install_verifier(app: FastAPI, verifier: Verifier) -> None:
    app.dependency_overrides[get_verifier] = lambda: verifier


VerifierDep = Annotated[Verifier, Depends(get_verifier)]


def unauthorized(message: str, *, error: str | None = None) -> HTTPException:
    challenge = f'Bearer realm="{REALM}"'
    if error is not None:
        challenge += f', error="{error}", error_description="{message}"'
    return HTTPException(401, detail=message, headers={"WWW-Authenticate": challenge})


async def current_principal(verifier: VerifierDep, credentials: Credentials) -> Principal:
    if credentials is None:
        raise unauthorized(
            "authentication required: send Authorization: Bearer <access token> (guificloud login)"
        )
    try:
        return await verifier.verify(credentials.credentials)
    except TokenRejected as exc:
        raise unauthorized(exc.message, error="invalid_token") from exc
    except KeysUnavailable as exc:
        raise HTTPException(503, detail=str(exc), headers={"Retry-After": "5"}) from exc


async def optional_principal(verifier: VerifierDep, credentials: Credentials) -> Principal | None:
    """The caller if credentials came (and hold), else None: for public reads that show
    more to some callers (contact data). Bad credentials are still refused."""
    if credentials is None:
        return None
    return await current_principal(verifier, credentials)


PrincipalDep = Annotated[Principal, Depends(current_principal)]
OptionalPrincipalDep = Annotated[Principal | None, Depends(optional_principal)]

Check = Callable[..., Awaitable[Principal]]


def require_operator() -> Check:
    async def check(principal: PrincipalDep) -> Principal:
        principal.ensure_operator()
        return principal

    return check


def require_scope(scope: str) -> Check:
    async def check(principal: PrincipalDep) -> Principal:
        principal.ensure_scope(scope)
        return principal

    return check


def require_role(*roles: Role, group_param: str = "group_id") -> Check:
    """The caller holds one of ``roles`` in the group named by the path parameter
    ``group_param`` (operators always do)."""

    async def check(request: Request, principal: PrincipalDep) -> Principal:
        raw = request.path_params.get(group_param)
        try:
            group = UUID(str(raw))
        except ValueError as exc:
            raise InvalidInput(f"{group_param} {raw!r} is not a UUID", field=group_param) from exc
        principal.ensure_role(group, *roles)
        return principal

    return check


OperatorDep = Annotated[Principal, Depends(require_operator())]
