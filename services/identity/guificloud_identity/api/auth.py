"""``/api/v1/auth``: logging in, token exchange, logout, the published keys."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from guificloud.auth.dependencies import OperatorDep, PrincipalDep
from guificloud.auth.scopes import SCOPES
from guificloud.events.identity import KeyRotated
from guificloud.http import UowDep
from guificloud.http_errors import ErrorOut
from guificloud.logging import get_logger
from guificloud_identity.api.deps import REFUSED, AuthorityDep, PresentedDep
from guificloud_identity.commands import auth
from guificloud_identity.schemas import AccessOut, LoginIn, LoginOut, WhoAmI

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])
log = get_logger(__name__)
LOGIN_REFUSED: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "Wrong login or password, or a disabled account"},
    429: {"model": ErrorOut, "description": "Too many failed attempts: see ``Retry-After``"},
}


@router.post("/login", response_model=LoginOut, responses=LOGIN_REFUSED)
async def login(data: LoginIn, request: Request, uow: UowDep, authority: AuthorityDep) -> LoginOut:
    """Anyone: a member's login and password give an access token (short-lived) and a
    refresh token. Failed attempts slow down further ones (429 with ``Retry-After``)."""
    address = request.client.host if request.client else None
    return await auth.login(uow, authority, data, auth.Caller(address=address))


@router.post("/token", response_model=AccessOut)
async def token(presented: PresentedDep, uow: UowDep, authority: AuthorityDep) -> AccessOut:
    """The holder of a refresh token or an API token (as the bearer credential): a fresh
    access token (with an API token's scopes)."""
    return await auth.exchange(uow, authority, presented)


@router.post("/logout", status_code=204)
async def logout(presented: PresentedDep, uow: UowDep) -> Response:
    """The holder of a refresh or API token: revoke it. Access tokens it gave stay valid
    until they expire (at most the access token lifetime) in services that check offline."""
    await auth.logout(uow, presented)
    return Response(status_code=204)


@router.get("/jwks.json")
async def jwks(uow: UowDep, authority: AuthorityDep, response: Response) -> dict[str, Any]:
    """Anyone: the public keys access tokens are signed with (JWKS), old ones included
    until the tokens they signed have expired."""
    await authority.keys.current(uow.session)  # the first start makes the first key
    document = await authority.keys.published(uow.session)
    await uow.commit()
    response.headers["Cache-Control"] = "public, max-age=60"
    return document


@router.post("/keys/rotate", status_code=201, responses=REFUSED)
async def rotate(caller: OperatorDep, uow: UowDep, authority: AuthorityDep) -> dict[str, str]:
    """Operators: sign with a new key from now on; the old one stays published until its
    tokens have expired. Services pick the new key up by themselves."""
    key = await authority.keys.rotate(uow.session)
    uow.emit(KeyRotated(kid=key.kid))
    await uow.commit()
    log.info("identity.key_rotated", kid=key.kid, by=str(caller.id))
    return {"kid": key.kid}


@router.get("/whoami", response_model=WhoAmI)
async def whoami(caller: PrincipalDep) -> WhoAmI:
    """Any caller: what their access token says of them."""
    return WhoAmI(
        id=caller.id,
        kind=caller.kind,
        login=caller.login,
        is_operator=caller.is_operator,
        groups={g: sorted(r) for g, r in caller.groups.items()},
        zones=sorted(caller.zones),
        scopes=None if caller.scopes is None else sorted(caller.scopes),
        expires_at=caller.expires_at,
    )


@router.get("/scopes")
async def scopes() -> dict[str, str]:
    """Anyone: the scopes an API token may be limited to."""
    return SCOPES
