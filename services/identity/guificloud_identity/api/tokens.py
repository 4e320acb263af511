"""``/api/v1/tokens``: API tokens (scoped, expiring, revocable) and login sessions."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Response

from guificloud.http import UowDep
from guificloud_identity.api.deps import NAMED, REFUSED, AuthorityDep, Reader, Writer
from guificloud_identity.commands import tokens
from guificloud_identity.schemas import TokenCreated, TokenIn, TokenOut

router = APIRouter(prefix="/api/v1/tokens", tags=["tokens"], responses=REFUSED)


@router.post("", status_code=201, response_model=TokenCreated, responses=NAMED)
async def create_token(
    data: TokenIn, caller: Writer, uow: UowDep, authority: AuthorityDep
) -> TokenCreated:
    """Any caller, for themself; operators, for another account (a tool's). The whole token
    is in this answer only; the service keeps its hash."""
    row, token = await tokens.create_api_token(
        uow, caller, data, max_ttl_s=authority.settings.api_token_max_ttl_s
    )
    return TokenCreated.model_validate(
        {**TokenOut.model_validate(row).model_dump(), "token": str(token)}
    )


@router.get("", response_model=list[TokenOut])
async def list_tokens(
    caller: Reader, uow: UowDep, account_id: UUID | None = None
) -> list[TokenOut]:
    """The caller's own tokens and sessions; operators, any account's."""
    return [TokenOut.model_validate(t) for t in await tokens.list_tokens(uow, caller, account_id)]


@router.delete("/{token_id}", status_code=204)
async def revoke_token(token_id: str, caller: Writer, uow: UowDep) -> Response:
    """The token's owner and operators."""
    await tokens.revoke_token(uow, caller, token_id)
    return Response(status_code=204)
