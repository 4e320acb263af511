"""Groups: any member may found one (and is its group admin); operators decide whether it
may have nodes and slices, and its quotas; its group admins manage the rest."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from uuid import UUID, uuid4

from sqlalchemy import delete, select

from guificloud.auth.principal import Principal, Role
from guificloud.db.uow import UnitOfWork
from guificloud.errors import Conflict, Forbidden
from guificloud.events.identity import (
    GroupChanged,
    GroupCreated,
    GroupDeleted,
    MembershipChanged,
    Quotas,
)
from guificloud_identity.models import Account, Group, Membership
from guificloud_identity.schemas import Allowances, GroupIn, GroupPatch, quotas_of


async def _ensure_name_free(uow: UnitOfWork, name: str) -> None:
    if await uow.session.scalar(select(Group.id).where(Group.name == name)) is not None:
        raise Conflict(f"group name {name!r} is taken", field="name")


async def create_group(uow: UnitOfWork, caller: Principal, data: GroupIn) -> Group:
    if caller.kind != "member":
        raise Forbidden("groups are founded by members, not tool accounts")
    await _ensure_name_free(uow, data.name)
    group = Group(id=uuid4(), name=data.name, description=data.description)
    uow.session.add(group)
    await uow.session.flush()
    uow.session.add(Membership(group_id=group.id, account_id=caller.id, roles=["group_admin"]))
    uow.emit(
        GroupCreated(
            group_id=group.id,
            name=group.name,
            allow_nodes=group.allow_nodes,
            allow_slices=group.allow_slices,
            quotas=quotas_of(group),
        )
    )
    uow.emit(
        MembershipChanged(
            group_id=group.id, account_id=caller.id, member=True, roles=["group_admin"]
        )
    )
    await uow.commit()
    return group


async def get_group(uow: UnitOfWork, group_id: UUID, *, for_update: bool = False) -> Group:
    return await uow.get(Group, group_id, "group", for_update=for_update)


async def list_groups(uow: UnitOfWork, *, name: str | None = None) -> Sequence[Group]:
    query = select(Group).order_by(Group.name)
    if name is not None:
        query = query.where(Group.name == name)
    return (await uow.session.scalars(query)).all()


def _changed(uow: UnitOfWork, group: Group) -> None:
    group.updated_at = datetime.now(UTC)
    uow.emit(
        GroupChanged(
            group_id=group.id,
            name=group.name,
            allow_nodes=group.allow_nodes,
            allow_slices=group.allow_slices,
            quotas=quotas_of(group),
        )
    )


async def update_group(
    uow: UnitOfWork, caller: Principal, group_id: UUID, data: GroupPatch
) -> Group:
    caller.ensure_role(group_id, "group_admin")
    group = await get_group(uow, group_id, for_update=True)
    if data.name is not None and data.name != group.name:
        await _ensure_name_free(uow, data.name)
        group.name = data.name
    if "description" in data.model_fields_set:
        group.description = data.description
    _changed(uow, group)
    await uow.commit()
    return group


async def set_allowances(
    uow: UnitOfWork, caller: Principal, group_id: UUID, data: Allowances
) -> Group:
    caller.ensure_operator()
    group = await get_group(uow, group_id, for_update=True)
    if data.allow_nodes is not None:
        group.allow_nodes = data.allow_nodes
    if data.allow_slices is not None:
        group.allow_slices = data.allow_slices
    _changed(uow, group)
    await uow.commit()
    return group


async def set_quotas(uow: UnitOfWork, caller: Principal, group_id: UUID, data: Quotas) -> Group:
    """Only the quotas sent change; null lifts one."""
    caller.ensure_operator()
    group = await get_group(uow, group_id, for_update=True)
    for name in data.model_fields_set:
        setattr(group, f"quota_{name}", getattr(data, name))
    _changed(uow, group)
    await uow.commit()
    return group


async def delete_group(uow: UnitOfWork, caller: Principal, group_id: UUID) -> None:
    caller.ensure_operator()
    group = await get_group(uow, group_id, for_update=True)
    await uow.session.delete(group)
    uow.emit(GroupDeleted(group_id=group_id))
    await uow.commit()


async def memberships(uow: UnitOfWork, group_id: UUID) -> Sequence[Membership]:
    await get_group(uow, group_id)
    rows = await uow.session.scalars(select(Membership).where(Membership.group_id == group_id))
    return rows.all()


async def _admins_left(uow: UnitOfWork, group_id: UUID, without: UUID) -> int:
    rows = await uow.session.scalars(
        select(Membership.account_id).where(
            Membership.group_id == group_id,
            Membership.roles.contains(["group_admin"]),
            Membership.account_id != without,
        )
    )
    return len(rows.all())


async def set_membership(
    uow: UnitOfWork, caller: Principal, group_id: UUID, account_id: UUID, roles: list[Role]
) -> Membership:
    """Add an account to the group, or set its roles there. The last group admin keeps the
    role (a group is never left without one) unless an operator says otherwise."""
    caller.ensure_role(group_id, "group_admin")
    await get_group(uow, group_id, for_update=True)  # serializes changes of one group
    await uow.get(Account, account_id, "account")
    roles = sorted(set(roles))
    row = await uow.session.get(Membership, (group_id, account_id))
    if (
        row is not None
        and "group_admin" in row.roles
        and "group_admin" not in roles
        and not caller.is_operator
        and await _admins_left(uow, group_id, account_id) == 0
    ):
        raise Conflict("the group's last group admin keeps the role: name another first")
    if row is None:
        row = Membership(group_id=group_id, account_id=account_id, roles=list(roles))
        uow.session.add(row)
    else:
        row.roles = list(roles)
    await uow.session.flush()
    uow.emit(MembershipChanged(group_id=group_id, account_id=account_id, member=True, roles=roles))
    await uow.commit()
    return row


async def remove_membership(
    uow: UnitOfWork, caller: Principal, group_id: UUID, account_id: UUID
) -> None:
    """Group admins remove members; a member may leave by themself."""
    if account_id != caller.id:
        caller.ensure_role(group_id, "group_admin")
    await get_group(uow, group_id, for_update=True)
    row = await uow.session.get(Membership, (group_id, account_id))
    if row is None:
        raise Conflict(f"account {account_id} is not a member of group {group_id}")
    if (
        "group_admin" in row.roles
        and not caller.is_operator
        and await _admins_left(uow, group_id, account_id) == 0
    ):
        raise Conflict("the group's last group admin cannot leave: name another first")
    await uow.session.execute(
        delete(Membership).where(
            Membership.group_id == group_id, Membership.account_id == account_id
        )
    )
    uow.emit(MembershipChanged(group_id=group_id, account_id=account_id, member=False, roles=[]))
    await uow.commit()
