"""Who a node belongs to: set when it is created, passed on with ``PUT .../owner``, and what a
cloud box on it needs (an owning group that may have nodes).

Non-operators give a node only to themselves and to groups they are group or node admin
of; an operator gives it to anyone (or to no one). A node imported from guifi.net has no
owner until an operator or a maintainer of its zone gives it one.
"""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from guificloud.auth import Principal
from guificloud.auth.verifier import ADMIN
from guificloud.db.uow import UnitOfWork
from guificloud.errors import Forbidden
from guificloud.events.registry import CLOUD_DEVICE_TYPES, NodeOwnerChanged, Ownership
from guificloud_registry.access import NODE_ROLES, ensure_manages_node, ownership
from guificloud_registry.commands.changes import touch
from guificloud_registry.conditional import check_if_match
from guificloud_registry.models import Device, Node, groups
from guificloud_registry.schemas import NodeIn, OwnerIn


def _ensure_may_give(principal: Principal, wanted: Ownership, current: Ownership) -> None:
    account, group = wanted.owner_account_id, wanted.owner_group_id
    if account not in (None, principal.id, current.owner_account_id):
        if not principal.is_operator:
            raise Forbidden(
                f"only operators give a node to another account ({account}); "
                f"{principal.login} may name itself or none"
            )
    if group is not None and group != current.owner_group_id:
        principal.ensure_role(group, *NODE_ROLES)


def owner_of_new_node(principal: Principal, data: NodeIn) -> Ownership:
    """The caller's node (the admin token is no account: its nodes have none unless it names
    one), and the group's if the body names one the caller administers."""
    if "owner_account_id" in data.model_fields_set:
        account = data.owner_account_id
    else:
        account = None if principal.id == ADMIN.id else principal.id
    wanted = Ownership(owner_account_id=account, owner_group_id=data.owner_group_id)
    _ensure_may_give(principal, wanted, Ownership())
    return wanted


async def ensure_may_have_cloud_box(
    session: AsyncSession, principal: Principal, node_id: UUID, group_id: UUID | None
) -> None:
    """A cloud box needs the node's group to be allowed nodes (operators too); a node of no
    group may get one from an operator only."""
    if group_id is None:
        if principal.is_operator:
            return
        raise Forbidden(
            f"node {node_id} belongs to no group: a cloud box needs a node of a group that may "
            f"have nodes (allow_nodes); give the node to one (PUT /api/v1/nodes/{node_id}/owner)"
        )
    group = await groups.require(session, group_id)
    if not group.allow_nodes:
        raise Forbidden(
            f"group {group.name} ({group.id}) may not have nodes (allow_nodes is off): an "
            "operator must allow it before its nodes get cloud boxes"
        )


async def change_owner(
    uow: UnitOfWork, node_id: UUID, data: OwnerIn, *, by: Principal, if_match: str | None = None
) -> Node:
    node = await uow.get(Node, node_id, "node")
    await ensure_manages_node(uow.session, by, node, node_id)
    check_if_match(if_match, node.version)
    current = ownership(node)
    wanted = Ownership(owner_account_id=data.owner_account_id, owner_group_id=data.owner_group_id)
    if wanted == current:
        return node
    _ensure_may_give(by, wanted, current)
    if wanted.owner_group_id != current.owner_group_id and await _has_cloud_box(uow, node_id):
        await ensure_may_have_cloud_box(uow.session, by, node_id, wanted.owner_group_id)
    node.owner_account_id, node.owner_group_id = wanted.owner_account_id, wanted.owner_group_id
    touch(node)
    uow.emit(NodeOwnerChanged(node_id=node.id, owner=wanted))
    await uow.commit()
    return node


async def _has_cloud_box(uow: UnitOfWork, node_id: UUID) -> bool:
    found = await uow.session.scalar(
        select(
            exists().where(Device.node_id == node_id, Device.type.in_(sorted(CLOUD_DEVICE_TYPES)))
        )
    )
    return bool(found)
