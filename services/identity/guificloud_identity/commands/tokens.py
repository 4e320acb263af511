"""Refresh and API tokens: made, looked up by what a caller presents, revoked.

A token found by its id is accepted only if its secret matches (constant time), it is not
revoked or expired, and its account is not disabled; each refusal says which.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

from sqlalchemy import select

from guificloud.auth.principal import Principal
from guificloud.auth.scopes import known
from guificloud.db.uow import UnitOfWork
from guificloud.errors import Forbidden, InvalidInput, NotFound, Unauthorized
from guificloud.events.identity import TokenRevoked
from guificloud.logging import get_logger
from guificloud_identity.models import Account, Token
from guificloud_identity.opaque import (
    OpaqueToken,
    TokenKind,
    new_token,
    parse_token,
    secret_matches,
)
from guificloud_identity.schemas import TokenIn

log = get_logger(__name__)


async def make_token(
    uow: UnitOfWork,
    account: Account,
    kind: TokenKind,
    *,
    ttl_s: float,
    name: str | None = None,
    scopes: list[str] | None = None,
) -> tuple[Token, OpaqueToken]:
    token = new_token(kind)
    row = Token(
        id=token.id,
        account_id=account.id,
        kind=kind,
        name=name,
        secret_hash=token.secret_hash,
        scopes=scopes,
        expires_at=datetime.now(UTC) + timedelta(seconds=ttl_s),
    )
    uow.session.add(row)
    await uow.session.flush()
    return row, token


async def presented(uow: UnitOfWork, text: str) -> tuple[Token, Account]:
    """The live token ``text`` is, with its account; :class:`Unauthorized` saying why not."""
    token = parse_token(text)
    if token is None:
        raise Unauthorized("not a refresh or API token of guifi-cloud")
    row = await uow.session.get(Token, token.id, with_for_update=True)
    if row is None or row.kind != token.kind or not secret_matches(row.secret_hash, token):
        raise Unauthorized(f"unknown {token.kind} token")
    if row.revoked_at is not None:
        raise Unauthorized(f"{token.kind} token revoked")
    if row.expires_at <= datetime.now(UTC):
        raise Unauthorized(f"{token.kind} token expired")
    account = await uow.get(Account, row.account_id, "account")
    if account.disabled:
        raise Unauthorized(f"account {account.login} is disabled")
    return row, account


async def revoke(uow: UnitOfWork, row: Token) -> None:
    if row.revoked_at is None:
        row.revoked_at = datetime.now(UTC)
        kind = "api" if row.kind == "api" else "refresh"
        uow.emit(TokenRevoked(token_id=row.id, account_id=row.account_id, kind=kind))
        log.info("identity.token_revoked", token_id=row.id, kind=row.kind)


async def create_api_token(
    uow: UnitOfWork, caller: Principal, data: TokenIn, *, max_ttl_s: int
) -> tuple[Token, OpaqueToken]:
    """An API token for the caller, or (operators) for another account, such as a tool's.
    A token limited to some scopes cannot make one that reaches further."""
    account_id = data.account_id or caller.id
    if account_id != caller.id:
        caller.ensure_operator()
    unknown = [s for s in data.scopes if not known(s)]
    if unknown:
        raise InvalidInput(f"unknown scopes {unknown}: see GET /api/v1/auth/scopes", field="scopes")
    beyond = [s for s in data.scopes if not caller.may(s)]
    if beyond:
        raise Forbidden(f"this token cannot grant scopes it lacks: {beyond}")
    account = await uow.get(Account, account_id, "account")
    ttl = min(data.expires_in_days * 86_400, max_ttl_s)
    made = await make_token(
        uow, account, "api", ttl_s=ttl, name=data.name, scopes=sorted(set(data.scopes))
    )
    await uow.commit()
    return made


async def list_tokens(uow: UnitOfWork, caller: Principal, account_id: UUID | None) -> list[Token]:
    """Live and past tokens of an account (the caller's own unless an operator asks)."""
    account_id = account_id or caller.id
    if account_id != caller.id:
        caller.ensure_operator()
    rows = await uow.session.scalars(
        select(Token).where(Token.account_id == account_id).order_by(Token.created_at.desc())
    )
    return list(rows)


async def revoke_token(uow: UnitOfWork, caller: Principal, token_id: str) -> Token:
    row = await uow.session.get(Token, token_id, with_for_update=True)
    if row is None or (row.account_id != caller.id and not caller.is_operator):
        raise NotFound(f"token {token_id} not found")
    await revoke(uow, row)
    await uow.commit()
    return row
