"""Members and tool accounts: made by operators, changed by themselves or operators.

A member's e-mail is contact data: :func:`contact_visible` says who sees it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from uuid import UUID, uuid4

from sqlalchemy import exists, select

from guificloud.auth.principal import Principal
from guificloud.db.uow import UnitOfWork
from guificloud.errors import Conflict, Forbidden, InvalidInput, NotFound
from guificloud.events.identity import MemberChanged, MemberCreated, ToolChanged, ToolCreated
from guificloud_identity.models import Account, Membership
from guificloud_identity.passwords import hash_password, verify_password
from guificloud_identity.schemas import MemberIn, MemberPatch, PasswordChange, ToolIn, ToolPatch


async def _ensure_login_free(uow: UnitOfWork, login: str) -> None:
    taken = await uow.session.scalar(select(Account.id).where(Account.login == login))
    if taken is not None:
        raise Conflict(f"login {login} is taken", field="login")


async def create_member(uow: UnitOfWork, caller: Principal | None, data: MemberIn) -> Account:
    """``caller`` None: the bootstrap of the first operator, with no one to ask."""
    if caller is not None:
        caller.ensure_operator()
    await _ensure_login_free(uow, data.login)
    account = Account(
        id=uuid4(),
        kind="member",
        login=data.login,
        display_name=data.display_name,
        email=data.email,
        password_hash=await hash_password(data.password.get_secret_value()),
        is_operator=data.is_operator,
    )
    uow.session.add(account)
    await uow.session.flush()
    uow.emit(
        MemberCreated(
            account_id=account.id,
            login=account.login,
            display_name=account.display_name,
            is_operator=account.is_operator,
        )
    )
    await uow.commit()
    return account


async def create_tool(uow: UnitOfWork, caller: Principal, data: ToolIn) -> Account:
    caller.ensure_operator()
    await _ensure_login_free(uow, data.login)
    account = Account(
        id=uuid4(),
        kind="tool",
        login=data.login,
        display_name=data.display_name,
        description=data.description,
    )
    uow.session.add(account)
    await uow.session.flush()
    uow.emit(
        ToolCreated(account_id=account.id, login=account.login, display_name=data.display_name)
    )
    await uow.commit()
    return account


async def get_account(uow: UnitOfWork, account_id: UUID, kind: str) -> Account:
    account = await uow.session.get(Account, account_id)
    if account is None or account.kind != kind:
        raise NotFound(f"{kind} {account_id} not found")
    return account


async def list_accounts(
    uow: UnitOfWork, kind: str, *, login: str | None = None, limit: int = 100, after: str = ""
) -> Sequence[Account]:
    query = select(Account).where(Account.kind == kind, Account.login > after)
    if login is not None:
        query = query.where(Account.login == login.lower())
    return (await uow.session.scalars(query.order_by(Account.login).limit(limit))).all()


async def contact_visible(
    uow: UnitOfWork, caller: Principal, accounts: Sequence[Account]
) -> set[UUID]:
    """The accounts among ``accounts`` whose contact data ``caller`` may see: their own,
    every one for an operator, and the members of groups where the caller is group admin."""
    if caller.is_operator:
        return {a.id for a in accounts}
    administered = [g for g, roles in caller.groups.items() if "group_admin" in roles]
    visible = {caller.id} & {a.id for a in accounts}
    if administered:
        found = await uow.session.scalars(
            select(Membership.account_id).where(
                Membership.group_id.in_(administered),
                Membership.account_id.in_([a.id for a in accounts]),
            )
        )
        visible.update(found)
    return visible


def _emit_changed(uow: UnitOfWork, account: Account) -> None:
    event = MemberChanged if account.kind == "member" else ToolChanged
    uow.emit(
        event(
            account_id=account.id,
            display_name=account.display_name,
            is_operator=account.is_operator,
            disabled=account.disabled,
        )
    )


async def update_member(
    uow: UnitOfWork, caller: Principal, account_id: UUID, data: MemberPatch
) -> Account:
    if account_id != caller.id:
        caller.ensure_operator()
    fields = data.model_fields_set
    if fields & {"is_operator", "disabled"}:
        caller.ensure_operator()
        if account_id == caller.id and (data.is_operator is False or data.disabled):
            raise Conflict("an operator cannot demote or disable themself: ask another")
    account = await get_account(uow, account_id, "member")
    for name in fields:
        value = getattr(data, name)
        if value is None and name in {"display_name", "is_operator", "disabled"}:
            raise InvalidInput(f"{name} cannot be null", field=name)
        setattr(account, name, value)
    account.updated_at = datetime.now(UTC)
    _emit_changed(uow, account)
    await uow.commit()
    return account


async def update_tool(
    uow: UnitOfWork, caller: Principal, account_id: UUID, data: ToolPatch
) -> Account:
    caller.ensure_operator()
    account = await get_account(uow, account_id, "tool")
    for name in data.model_fields_set:
        value = getattr(data, name)
        if value is None and name in {"display_name", "disabled"}:
            raise InvalidInput(f"{name} cannot be null", field=name)
        setattr(account, name, value)
    account.updated_at = datetime.now(UTC)
    _emit_changed(uow, account)
    await uow.commit()
    return account


async def change_password(
    uow: UnitOfWork, caller: Principal, account_id: UUID, data: PasswordChange
) -> None:
    """One's own change proves the current password; an operator resets another's."""
    account = await get_account(uow, account_id, "member")
    if account_id == caller.id:
        current = data.current_password.get_secret_value() if data.current_password else ""
        if not await verify_password(account.password_hash, current):
            raise Forbidden("current_password does not match")
    else:
        caller.ensure_operator()
    account.password_hash = await hash_password(data.new_password.get_secret_value())
    account.updated_at = datetime.now(UTC)
    await uow.commit()


async def operator_exists(uow: UnitOfWork) -> bool:
    found = await uow.session.scalar(select(exists().where(Account.is_operator.is_(True))))
    return bool(found)
