"""Logging in with a password, exchanging a refresh or API token for an access token, and
logging out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy import select

from guificloud.db.uow import UnitOfWork
from guificloud.errors import Unauthorized
from guificloud.logging import get_logger
from guificloud_identity import throttle
from guificloud_identity.authority import Authority
from guificloud_identity.commands.tokens import make_token, presented, revoke
from guificloud_identity.models import Account
from guificloud_identity.passwords import hash_password, needs_rehash, verify_password
from guificloud_identity.schemas import AccessOut, LoginIn, LoginOut

log = get_logger(__name__)


@dataclass(frozen=True)
class Caller:
    """Where a request came from, for the throttle."""

    address: str | None


async def login(uow: UnitOfWork, authority: Authority, data: LoginIn, caller: Caller) -> LoginOut:
    settings = authority.settings
    counters = throttle.counters(settings, data.login, caller.address)
    await throttle.ensure_allowed(uow.session, counters)
    account = await uow.session.scalar(
        select(Account).where(Account.login == data.login, Account.kind == "member")
    )
    password = data.password.get_secret_value()
    ok = await verify_password(account.password_hash if account else None, password)
    if account is None or not ok or account.disabled:
        await throttle.record_failure(uow.session, counters, settings)
        await uow.commit()
        log.info("identity.login_failed", login=data.login, address=caller.address)
        if ok and account is not None:
            raise Unauthorized(f"account {account.login} is disabled")
        raise Unauthorized("wrong login or password")
    assert account.password_hash is not None
    if needs_rehash(account.password_hash):
        account.password_hash = await hash_password(password)
    await throttle.clear(uow.session, account.login)
    row, refresh = await make_token(uow, account, "refresh", ttl_s=settings.refresh_token_ttl_s)
    principal = await authority.principal_of(uow.session, account, session_id=row.id)
    access = await authority.issue(uow.session, principal)
    await uow.commit()
    log.info("identity.logged_in", account_id=str(account.id), session=row.id)
    return LoginOut(
        **access.model_dump(),
        refresh_token=str(refresh),
        refresh_expires_in=settings.refresh_token_ttl_s,
        account_id=account.id,
    )


async def exchange(uow: UnitOfWork, authority: Authority, presented_token: str) -> AccessOut:
    """A fresh access token for a live refresh or API token (with the API token's scopes)."""
    row, account = await presented(uow, presented_token)
    row.last_used_at = datetime.now(UTC)
    principal = await authority.principal_of(
        uow.session, account, scopes=row.scopes if row.kind == "api" else None, session_id=row.id
    )
    access = await authority.issue(uow.session, principal)
    await uow.commit()
    return access


async def logout(uow: UnitOfWork, presented_token: str) -> UUID:
    """Revoke the refresh or API token presented; access tokens it made end at expiry."""
    row, account = await presented(uow, presented_token)
    await revoke(uow, row)
    await uow.commit()
    return account.id
