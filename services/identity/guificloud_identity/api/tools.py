"""``/api/v1/tools``: accounts of other Guifi tools and scripts (API tokens, no password).
Operators make and change them and their tokens (``POST /api/v1/tokens`` with
``account_id``)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from guificloud.http import UowDep
from guificloud_identity.api.deps import REFUSED, Reader, Writer
from guificloud_identity.commands import accounts
from guificloud_identity.schemas import ToolIn, ToolOut, ToolPatch

router = APIRouter(prefix="/api/v1/tools", tags=["tools"], responses=REFUSED)


@router.post("", status_code=201, response_model=ToolOut)
async def create_tool(data: ToolIn, caller: Writer, uow: UowDep) -> ToolOut:
    """Operators."""
    return ToolOut.model_validate(await accounts.create_tool(uow, caller, data))


@router.get("", response_model=list[ToolOut])
async def list_tools(
    _caller: Reader,
    uow: UowDep,
    login: Annotated[str | None, Query(max_length=64)] = None,
    after: Annotated[str, Query(max_length=64)] = "",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[ToolOut]:
    """Any caller."""
    found = await accounts.list_accounts(uow, "tool", login=login, limit=limit, after=after)
    return [ToolOut.model_validate(a) for a in found]


@router.get("/{account_id}", response_model=ToolOut)
async def get_tool(account_id: UUID, _caller: Reader, uow: UowDep) -> ToolOut:
    """Any caller."""
    return ToolOut.model_validate(await accounts.get_account(uow, account_id, "tool"))


@router.patch("/{account_id}", response_model=ToolOut)
async def update_tool(account_id: UUID, data: ToolPatch, caller: Writer, uow: UowDep) -> ToolOut:
    """Operators."""
    return ToolOut.model_validate(await accounts.update_tool(uow, caller, account_id, data))
