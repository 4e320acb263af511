"""``/api/v1/groups``: groups, their members' roles, what operators allow them, quotas."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response
from sqlalchemy import select

from guificloud.auth.principal import known_roles
from guificloud.http import UowDep
from guificloud_identity.api.deps import REFUSED, Reader, Writer
from guificloud_identity.commands import groups
from guificloud_identity.models import Account, Membership
from guificloud_identity.schemas import (
    Allowances,
    GroupIn,
    GroupOut,
    GroupPatch,
    MembershipIn,
    MembershipOut,
    QuotasIn,
)

router = APIRouter(prefix="/api/v1/groups", tags=["groups"], responses=REFUSED)


@router.post("", status_code=201, response_model=GroupOut)
async def create_group(data: GroupIn, caller: Writer, uow: UowDep) -> GroupOut:
    """Any member: founds the group and is its group admin. It may have neither nodes nor
    slices until an operator allows them."""
    return GroupOut.model_validate(await groups.create_group(uow, caller, data))


@router.get("", response_model=list[GroupOut])
async def list_groups(
    _caller: Reader, uow: UowDep, name: Annotated[str | None, Query(max_length=100)] = None
) -> list[GroupOut]:
    """Any caller."""
    return [GroupOut.model_validate(g) for g in await groups.list_groups(uow, name=name)]


@router.get("/{group_id}", response_model=GroupOut)
async def get_group(group_id: UUID, _caller: Reader, uow: UowDep) -> GroupOut:
    """Any caller."""
    return GroupOut.model_validate(await groups.get_group(uow, group_id))


@router.patch("/{group_id}", response_model=GroupOut)
async def update_group(group_id: UUID, data: GroupPatch, caller: Writer, uow: UowDep) -> GroupOut:
    """The group's group admins and operators: name and description."""
    return GroupOut.model_validate(await groups.update_group(uow, caller, group_id, data))


@router.put("/{group_id}/allow", response_model=GroupOut)
async def set_allowances(group_id: UUID, data: Allowances, caller: Writer, uow: UowDep) -> GroupOut:
    """Operators: whether the group may have nodes and slices."""
    return GroupOut.model_validate(await groups.set_allowances(uow, caller, group_id, data))


@router.put("/{group_id}/quotas", response_model=GroupOut)
async def set_quotas(group_id: UUID, data: QuotasIn, caller: Writer, uow: UowDep) -> GroupOut:
    """Operators: the quotas sent change (null: no limit)."""
    return GroupOut.model_validate(await groups.set_quotas(uow, caller, group_id, data))


@router.delete("/{group_id}", status_code=204)
async def delete_group(group_id: UUID, caller: Writer, uow: UowDep) -> Response:
    """Operators."""
    await groups.delete_group(uow, caller, group_id)
    return Response(status_code=204)


@router.get("/{group_id}/members", response_model=list[MembershipOut])
async def list_memberships(group_id: UUID, _caller: Reader, uow: UowDep) -> list[MembershipOut]:
    """Any caller: who is in the group, with which roles."""
    await groups.get_group(uow, group_id)
    rows = await uow.session.execute(
        select(Membership, Account.login, Account.display_name)
        .join(Account, Account.id == Membership.account_id)
        .where(Membership.group_id == group_id)
        .order_by(Account.login)
    )
    return [
        MembershipOut(
            group_id=m.group_id,
            account_id=m.account_id,
            login=login,
            display_name=name,
            roles=known_roles(m.roles),
        )
        for m, login, name in rows
    ]


@router.put("/{group_id}/members/{account_id}", response_model=MembershipOut)
async def set_membership(
    group_id: UUID, account_id: UUID, data: MembershipIn, caller: Writer, uow: UowDep
) -> MembershipOut:
    """The group's group admins and operators: add the account, or set its roles."""
    row = await groups.set_membership(uow, caller, group_id, account_id, data.roles)
    account = await uow.get(Account, account_id, "account")
    return MembershipOut(
        group_id=group_id,
        account_id=account_id,
        login=account.login,
        display_name=account.display_name,
        roles=known_roles(row.roles),
    )


@router.delete("/{group_id}/members/{account_id}", status_code=204)
async def remove_membership(
    group_id: UUID, account_id: UUID, caller: Writer, uow: UowDep
) -> Response:
    """The group's group admins and operators; any member, to leave."""
    await groups.remove_membership(uow, caller, group_id, account_id)
    return Response(status_code=204)
