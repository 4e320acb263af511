"""``/api/v1/members``: people. Operators make them; each changes their own name, e-mail and
password; e-mail is shown only to the member, their group admins and operators."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response

from guificloud.auth.principal import Principal
from guificloud.db.uow import UnitOfWork
from guificloud.http import UowDep
from guificloud_identity.api.deps import NOT_A_MEMBER, REFUSED, Reader, Writer
from guificloud_identity.commands import accounts
from guificloud_identity.models import Account
from guificloud_identity.schemas import MemberIn, MemberOut, MemberPatch, PasswordChange

router = APIRouter(prefix="/api/v1/members", tags=["members"], responses=REFUSED)


async def shown(uow: UnitOfWork, caller: Principal, found: Sequence[Account]) -> list[MemberOut]:
    visible = await accounts.contact_visible(uow, caller, found)
    return [
        MemberOut.model_validate(a).model_copy(
            update={"email": a.email if a.id in visible else None}
        )
        for a in found
    ]


@router.post("", status_code=201, response_model=MemberOut)
async def create_member(data: MemberIn, caller: Writer, uow: UowDep) -> MemberOut:
    """Operators."""
    account = await accounts.create_member(uow, caller, data)
    return MemberOut.model_validate(account)


@router.get("", response_model=list[MemberOut])
async def list_members(
    caller: Reader,
    uow: UowDep,
    login: Annotated[str | None, Query(max_length=64)] = None,
    after: Annotated[str, Query(max_length=64, description="Logins after this one")] = "",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[MemberOut]:
    """Any caller (e-mail only where they may see it); ordered by login."""
    found = await accounts.list_accounts(uow, "member", login=login, limit=limit, after=after)
    return await shown(uow, caller, found)


@router.get("/me", response_model=MemberOut, responses=NOT_A_MEMBER)
async def me(caller: Reader, uow: UowDep) -> MemberOut:
    """A member: themself."""
    return (await shown(uow, caller, [await accounts.get_account(uow, caller.id, "member")]))[0]


@router.patch("/me", response_model=MemberOut, responses=NOT_A_MEMBER)
async def update_me(data: MemberPatch, caller: Writer, uow: UowDep) -> MemberOut:
    """A member: their own name and e-mail, as ``PATCH /members/{their id}``."""
    return MemberOut.model_validate(await accounts.update_member(uow, caller, caller.id, data))


@router.get("/{account_id}", response_model=MemberOut)
async def get_member(account_id: UUID, caller: Reader, uow: UowDep) -> MemberOut:
    """Any caller (e-mail only where they may see it)."""
    return (await shown(uow, caller, [await accounts.get_account(uow, account_id, "member")]))[0]


@router.patch("/{account_id}", response_model=MemberOut)
async def update_member(
    account_id: UUID, data: MemberPatch, caller: Writer, uow: UowDep
) -> MemberOut:
    """The member themself (name, e-mail); operators (also ``is_operator``, ``disabled``:
    a disabled member's tokens stop at their next refresh)."""
    account = await accounts.update_member(uow, caller, account_id, data)
    return MemberOut.model_validate(account)


@router.put("/{account_id}/password", status_code=204)
async def change_password(
    account_id: UUID, data: PasswordChange, caller: Writer, uow: UowDep
) -> Response:
    """The member themself (with ``current_password``); operators reset another's."""
    await accounts.change_password(uow, caller, account_id, data)
    return Response(status_code=204)
