"""``/api/v1/slices`` and ``/api/v1/slivers``.

Every route needs a caller: members of a slice's group read it; its ``slice_admin`` and
``group_admin`` change it (see :mod:`guificloud_provisioner.access`, and the README).

Changes run in a transaction of their own that is retried when PostgreSQL breaks a
deadlock between concurrent placements; lists are pages of a JSON array with the next
page in a ``Link: <...>; rel="next"`` header (and ``X-Next-Cursor``), as in the registry.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel
from sqlalchemy import ColumnElement, select

from guificloud.auth import PrincipalDep
from guificloud.db.uow import UnitOfWork
from guificloud.http import UowDep
from guificloud.idempotency import Idempotency, IdempotencyDep
from guificloud.pagination import next_page_headers, page
from guificloud.states import SetState
from guificloud_provisioner import access
from guificloud_provisioner.runtime import ProvisionerRuntime, ProvisionerRuntimeDep
from guificloud_provisioner.slices import commands, sliver_commands, views
from guificloud_provisioner.slices.create import create_slice
from guificloud_provisioner.slices.models import Slice, Sliver
from guificloud_provisioner.slices.placement import is_retryable
from guificloud_provisioner.slices.schemas import (
    SliceIn,
    SliceOut,
    SlicePatch,
    SlicePut,
    SliverDetail,
    SliverIn,
    SliverOut,
    SliverPatch,
)

router = APIRouter(prefix="/api/v1", responses=access.REFUSED)
T = TypeVar("T")
ATTEMPTS = 5


async def _transaction(
    runtime: ProvisionerRuntime, work: Callable[[UnitOfWork], Awaitable[T]]
) -> T:
    """Run ``work`` and commit; again (a few times) when it lost a deadlock."""

    async def commit(uow: UnitOfWork) -> T:
        result = await work(uow)
        await uow.commit()
        return result

    return await _retried(runtime, commit)


async def _once(
    runtime: ProvisionerRuntime,
    once: Idempotency,
    work: Callable[[UnitOfWork], Awaitable[BaseModel]],
    *,
    status_code: int = 200,
) -> Response:
    """As :func:`_transaction`, for a request that may carry an ``Idempotency-Key``: the
    response is built before the commit and stored with it."""

    async def run(uow: UnitOfWork) -> Response:
        return await once.run(uow, lambda: work(uow), status_code=status_code)

    return await _retried(runtime, run)


async def _retried(
    runtime: ProvisionerRuntime, attempt_in: Callable[[UnitOfWork], Awaitable[T]]
) -> T:
    """Run ``attempt_in`` in a transaction of its own; again when it lost a deadlock."""
    for attempt in range(ATTEMPTS):
        try:
            async with runtime.uow() as uow:
                return await attempt_in(uow)
        except Exception as exc:
            if attempt == ATTEMPTS - 1 or not is_retryable(exc):
                raise
        await asyncio.sleep(0.02 * 2**attempt)
    raise AssertionError("unreachable")


@router.post("/slices", status_code=201, response_model=SliceOut, tags=["slices"])
async def post_slice(
    data: SliceIn, principal: PrincipalDep, runtime: ProvisionerRuntimeDep, once: IdempotencyDep
) -> Response:
    """Create a slice in a group and place its slivers (409 naming ``placement`` when they
    don't fit, 409 naming the quota when the group's quotas have no room)."""
    access.ensure_manages(principal, data.group_id)

    async def work(uow: UnitOfWork) -> SliceOut:
        return await views.one_slice(uow, await create_slice(uow, runtime.settings, data))

    return await _once(runtime, once, work, status_code=201)


@router.get("/slices", response_model=list[SliceOut], tags=["slices"])
async def list_slices(
    request: Request,
    uow: UowDep,
    principal: PrincipalDep,
    group_id: UUID | None = None,
    set_state: SetState | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Response:
    """Slices not being deleted, oldest first: those of the caller's groups (every one for
    an operator)."""
    where: list[ColumnElement[bool]] = [Slice.deleted_at.is_(None)]
    groups = access.readable_groups(principal)
    if groups is not None:
        where.append(Slice.group_id.in_(groups))
    if group_id is not None:
        access.ensure_reads(principal, group_id)
        where.append(Slice.group_id == group_id)
    if set_state is not None:
        where.append(Slice.set_state == set_state)
    keys = (Slice.created_at, Slice.id)
    found = await page(uow.session, select(Slice), keys, where, limit=limit, cursor=cursor)
    by_slice = await views.counts(uow, [s.id for s in found.items])
    body = json.dumps(
        [views.slice_out(s, by_slice[s.id]).model_dump(mode="json") for s in found.items]
    )
    headers = next_page_headers(request.url, found.next_cursor)
    return Response(body, media_type="application/json", headers=headers)


@router.get("/slices/{slice_id}", response_model=SliceOut, tags=["slices"])
async def get_slice(slice_id: UUID, uow: UowDep, principal: PrincipalDep) -> SliceOut:
    guard = access.reader(principal)
    return await views.one_slice(uow, await commands.get_slice(uow, slice_id, guard=guard))


@router.patch("/slices/{slice_id}", response_model=SliceOut, tags=["slices"])
async def patch_slice(
    slice_id: UUID, data: SlicePatch, principal: PrincipalDep, runtime: ProvisionerRuntimeDep
) -> SliceOut:
    """Move the slice along ``register`` < ``deploy`` < ``start`` (or back), or describe it."""
    guard = access.manager(principal)

    async def work(uow: UnitOfWork) -> SliceOut:
        slice_ = await commands.patch_slice(uow, runtime.settings, slice_id, data, guard=guard)
        return await views.one_slice(uow, slice_)

    return await _transaction(runtime, work)


@router.put("/slices/{slice_id}", response_model=SliceOut, tags=["slices"])
async def put_slice(
    slice_id: UUID, data: SlicePut, principal: PrincipalDep, runtime: ProvisionerRuntimeDep
) -> SliceOut:
    """Name and description; never the state or the group (a differing one is a 422)."""
    guard = access.manager(principal)

    async def work(uow: UnitOfWork) -> SliceOut:
        slice_ = await commands.put_slice(uow, runtime.settings, slice_id, data, guard=guard)
        return await views.one_slice(uow, slice_)

    return await _transaction(runtime, work)


@router.delete("/slices/{slice_id}", status_code=202, tags=["slices"])
async def delete_slice(
    slice_id: UUID, principal: PrincipalDep, runtime: ProvisionerRuntimeDep
) -> Response:
    """Slivers leave their boxes; the slice is gone once they have."""
    guard = access.manager(principal)

    async def work(uow: UnitOfWork) -> None:
        await commands.delete_slice(uow, runtime.settings, slice_id, "deleted", guard=guard)

    await _transaction(runtime, work)
    return Response(status_code=202)


@router.post("/slices/{slice_id}/renew", response_model=SliceOut, tags=["slices"])
async def renew_slice(
    slice_id: UUID, principal: PrincipalDep, runtime: ProvisionerRuntimeDep, once: IdempotencyDep
) -> Response:
    guard = access.manager(principal)

    async def work(uow: UnitOfWork) -> SliceOut:
        slice_ = await commands.renew_slice(uow, runtime.settings, slice_id, guard=guard)
        return await views.one_slice(uow, slice_)

    return await _once(runtime, once, work)


@router.post("/slices/{slice_id}/reset", response_model=SliceOut, tags=["slices"])
async def reset_slice(
    slice_id: UUID, principal: PrincipalDep, runtime: ProvisionerRuntimeDep, once: IdempotencyDep
) -> Response:
    """A new instance: every sliver is made again from scratch (once per ``Idempotency-Key``)."""
    guard = access.manager(principal)

    async def work(uow: UnitOfWork) -> SliceOut:
        slice_ = await commands.reset_slice(uow, runtime.settings, slice_id, guard=guard)
        return await views.one_slice(uow, slice_)

    return await _once(runtime, once, work)


@router.get("/slices/{slice_id}/slivers", response_model=list[SliverOut], tags=["slivers"])
async def list_slivers(slice_id: UUID, uow: UowDep, principal: PrincipalDep) -> list[SliverOut]:
    slice_ = await commands.get_slice(uow, slice_id, guard=access.reader(principal))
    rows = await uow.session.scalars(
        select(Sliver).where(Sliver.slice_id == slice_id).order_by(Sliver.created_at, Sliver.id)
    )
    return [views.sliver_out(s, slice_) for s in rows]


@router.post(
    "/slices/{slice_id}/slivers", status_code=201, response_model=SliverOut, tags=["slivers"]
)
async def post_sliver(
    slice_id: UUID,
    data: SliverIn,
    principal: PrincipalDep,
    runtime: ProvisionerRuntimeDep,
    once: IdempotencyDep,
) -> Response:
    """One more sliver, on the box named, within the group's quotas."""
    guard = access.manager(principal)

    async def work(uow: UnitOfWork) -> SliverOut:
        sliver = await sliver_commands.add_sliver(
            uow, runtime.settings, slice_id, data.box_id, guard=guard
        )
        return views.sliver_out(sliver, await sliver_commands.slice_of(uow, sliver))

    return await _once(runtime, once, work, status_code=201)


@router.get("/slivers/{sliver_id}", response_model=SliverDetail, tags=["slivers"])
async def get_sliver(sliver_id: UUID, uow: UowDep, principal: PrincipalDep) -> SliverDetail:
    sliver = await sliver_commands.get_sliver(uow, sliver_id, guard=access.reader(principal))
    return await views.sliver_detail(uow, sliver, await sliver_commands.slice_of(uow, sliver))


@router.patch("/slivers/{sliver_id}", response_model=SliverDetail, tags=["slivers"])
async def patch_sliver(
    sliver_id: UUID, data: SliverPatch, principal: PrincipalDep, runtime: ProvisionerRuntimeDep
) -> SliverDetail:
    """The sliver's own overrides: a lower ``set_state`` (effective = min of it and the
    slice's), another ``image``; null goes back to the slice's."""
    guard = access.manager(principal)

    async def work(uow: UnitOfWork) -> SliverDetail:
        sliver = await sliver_commands.patch_sliver(
            uow, runtime.settings, sliver_id, data, guard=guard
        )
        slice_ = await sliver_commands.slice_of(uow, sliver)
        return await views.sliver_detail(uow, sliver, slice_)

    return await _transaction(runtime, work)


@router.delete("/slivers/{sliver_id}", status_code=202, tags=["slivers"])
async def delete_sliver(
    sliver_id: UUID, principal: PrincipalDep, runtime: ProvisionerRuntimeDep
) -> Response:
    guard = access.manager(principal)

    async def work(uow: UnitOfWork) -> None:
        await sliver_commands.delete_sliver(uow, runtime.settings, sliver_id, guard=guard)

    await _transaction(runtime, work)
    return Response(status_code=202)
