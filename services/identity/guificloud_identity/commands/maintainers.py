"""Zone maintainers: operators name a member, a tool or a group as maintainer of a zone and
its subtree. The zone is only an id here: the registry knows the tree and checks the
subtree; the access token carries the zone ids."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID, uuid4

from sqlalchemy import select

from guificloud.auth.principal import Principal
from guificloud.db.uow import UnitOfWork
from guificloud.errors import Conflict
from guificloud.events.identity import MaintainerAdded, MaintainerRemoved
from guificloud_identity.models import Account, Group, Maintainer
from guificloud_identity.schemas import MaintainerIn


async def add_maintainer(uow: UnitOfWork, caller: Principal, data: MaintainerIn) -> Maintainer:
    caller.ensure_operator()
    if data.account_id is not None:
        await uow.get(Account, data.account_id, "account")
    if data.group_id is not None:
        await uow.get(Group, data.group_id, "group")
    existing = await uow.session.scalar(
        select(Maintainer.id).where(
            Maintainer.zone_id == data.zone_id,
            Maintainer.account_id == data.account_id
            if data.account_id
            else Maintainer.group_id == data.group_id,
        )
    )
    if existing is not None:
        raise Conflict(f"already a maintainer of zone {data.zone_id} ({existing})")
    row = Maintainer(
        id=uuid4(), zone_id=data.zone_id, account_id=data.account_id, group_id=data.group_id
    )
    uow.session.add(row)
    await uow.session.flush()
    uow.emit(
        MaintainerAdded(
            maintainer_id=row.id,
            zone_id=row.zone_id,
            account_id=row.account_id,
            group_id=row.group_id,
        )
    )
    await uow.commit()
    return row


async def list_maintainers(
    uow: UnitOfWork,
    *,
    zone_id: UUID | None = None,
    account_id: UUID | None = None,
    group_id: UUID | None = None,
) -> Sequence[Maintainer]:
    query = select(Maintainer).order_by(Maintainer.created_at)
    if zone_id is not None:
        query = query.where(Maintainer.zone_id == zone_id)
    if account_id is not None:
        query = query.where(Maintainer.account_id == account_id)
    if group_id is not None:
        query = query.where(Maintainer.group_id == group_id)
    return (await uow.session.scalars(query)).all()


async def remove_maintainer(uow: UnitOfWork, caller: Principal, maintainer_id: UUID) -> None:
    caller.ensure_operator()
    row = await uow.get(Maintainer, maintainer_id, "maintainer", for_update=True)
    await uow.session.delete(row)
    uow.emit(
        MaintainerRemoved(
            maintainer_id=row.id,
            zone_id=row.zone_id,
            account_id=row.account_id,
            group_id=row.group_id,
        )
    )
    await uow.commit()
