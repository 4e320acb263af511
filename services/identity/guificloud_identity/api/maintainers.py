"""``/api/v1/maintainers``: who maintains which zone subtree (operators name them)."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Response

from guificloud.http import UowDep
from guificloud_identity.api.deps import NAMED, REFUSED, Reader, Writer
from guificloud_identity.commands import maintainers
from guificloud_identity.schemas import MaintainerIn, MaintainerOut

router = APIRouter(prefix="/api/v1/maintainers", tags=["maintainers"], responses=REFUSED)


@router.post("", status_code=201, response_model=MaintainerOut, responses=NAMED)
async def add_maintainer(data: MaintainerIn, caller: Writer, uow: UowDep) -> MaintainerOut:
    """Operators: an account or a group maintains a zone and its subtree."""
    return MaintainerOut.model_validate(await maintainers.add_maintainer(uow, caller, data))


@router.get("", response_model=list[MaintainerOut])
async def list_maintainers(
    _caller: Reader,
    uow: UowDep,
    zone_id: UUID | None = None,
    account_id: UUID | None = None,
    group_id: UUID | None = None,
) -> list[MaintainerOut]:
    """Any caller."""
    found = await maintainers.list_maintainers(
        uow, zone_id=zone_id, account_id=account_id, group_id=group_id
    )
    return [MaintainerOut.model_validate(m) for m in found]


@router.delete("/{maintainer_id}", status_code=204)
async def remove_maintainer(maintainer_id: UUID, caller: Writer, uow: UowDep) -> Response:
    """Operators."""
    await maintainers.remove_maintainer(uow, caller, maintainer_id)
    return Response(status_code=204)
