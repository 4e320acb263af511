"""What the identity service's routes depend on: its authority, and callers checked against
its own tables (a revoked session or a disabled account is refused at once here, where
other services wait for the access token to expire)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends
from sqlalchemy import select

from guificloud.auth.dependencies import Credentials, require_scope, unauthorized
from guificloud.auth.keys import KeySet
from guificloud.auth.principal import Principal
from guificloud.auth.verifier import TokenRejected, Verifier
from guificloud.http_errors import ErrorOut
from guificloud_identity.authority import Authority
from guificloud_identity.models import Account, Token
from guificloud_identity.runtime import IdentityRuntime, IdentityRuntimeDep


def get_authority(runtime: IdentityRuntimeDep) -> Authority:
    return runtime.resources


AuthorityDep = Annotated[Authority, Depends(get_authority)]


def own_verifier(runtime: IdentityRuntime, authority: Authority) -> Verifier:
    """Verifies against the key set in the database (no HTTP call to itself), and refuses
    tokens of revoked sessions and disabled accounts."""

    async def fetch() -> Mapping[str, Any]:
        async with runtime.session_factory() as session:
            return await authority.keys.published(session)

    async def session_check(principal: Principal) -> None:
        async with runtime.session_factory() as session:
            disabled = await session.scalar(
                select(Account.disabled).where(Account.id == principal.id)
            )
            if disabled is None or disabled:
                raise TokenRejected("revoked", f"account {principal.login} is disabled or gone")
            if principal.session_id is None:
                return
            row = (
                await session.execute(
                    select(Token.revoked_at, Token.expires_at).where(
                        Token.id == principal.session_id
                    )
                )
            ).first()
        if row is None or row.revoked_at is not None or row.expires_at <= datetime.now(UTC):
            raise TokenRejected("revoked", "access token of a revoked session: log in again")

    keys = KeySet(fetch, refresh_s=30.0, min_refetch_s=1.0)
    return Verifier(keys, session_check=session_check, admin_token=runtime.settings.admin_token)


def presented_token(credentials: Credentials) -> str:
    """The refresh or API token sent as the bearer credential."""
    if credentials is None:
        raise unauthorized("send a refresh or API token: Authorization: Bearer <token>")
    return credentials.credentials


PresentedDep = Annotated[str, Depends(presented_token)]
Reader = Annotated[Principal, Depends(require_scope("identity.read"))]
Writer = Annotated[Principal, Depends(require_scope("identity.write"))]


REFUSED: dict[int | str, dict[str, Any]] = {
    403: {"model": ErrorOut, "description": "The caller lacks the right or scope (named)"}
}
"""The refusal every route that checks its caller may answer, for OpenAPI."""
NAMED: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "No record by an id the body names"}
}
"""For routes whose body names other records (the path names none)."""
NOT_A_MEMBER: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "The caller is no member (a tool, the admin token)"}
}
"""For ``/members/me``: the caller's own member record."""
