"""The provisioner's HTTP API under ``/api/v1``: boxes for people, desired state for agents.

Box states and distros are public reads (fleet status); a box's configuration is for its
node's owners and operators; moving boxes to another distro and revoking a box's token are
for operators (see :mod:`guificloud_provisioner.access`)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select

from guificloud.auth import PrincipalDep
from guificloud.boxes import BoxConfig, DesiredState, DistroSpec
from guificloud.db.uow import UnitOfWork
from guificloud.errors import MethodNotAllowed, NotFound, Unauthorized
from guificloud.head import is_head
from guificloud.http import UowDep, create_base_app
from guificloud.states import BoxState
from guificloud_provisioner import access, box_tokens, distro_choice, distro_rollout
from guificloud_provisioner.models import Box, BoxTransition, DistroImage
from guificloud_provisioner.runtime import ProvisionerRuntime, ProvisionerRuntimeDep
from guificloud_provisioner.schemas import (
    BoxDetail,
    BoxOut,
    DistroAssigned,
    DistroAssignIn,
    DistroOut,
    DistroRolloutIn,
    TransitionOut,
)
from guificloud_provisioner.slices.api import router as slices_router
from guificloud_provisioner.slices.desired import box_slivers

router = APIRouter(prefix="/api/v1", responses=access.REFUSED)


async def _box(uow: UnitOfWork, box_id: UUID) -> Box:
    box = await uow.get(Box, box_id, "box")
    return box


def _box_out(box: Box) -> BoxOut:
    return BoxOut.model_validate(
        {
            **{c: getattr(box, c) for c in BoxOut.model_fields if hasattr(box, c)},
            "distro_digest": (box.desired_distro or {}).get("digest"),
        }
    )


@router.get("/boxes", response_model=list[BoxOut], tags=["boxes"])
async def list_boxes(
    uow: UowDep,
    state: BoxState | None = None,
    node_id: UUID | None = None,
    zone_id: UUID | None = None,
    limit: int = Query(500, ge=1, le=5000),
) -> list[BoxOut]:
    stmt = select(Box).order_by(Box.created_at).limit(limit)
    if state is not None:
        stmt = stmt.where(Box.state == state)
    if node_id is not None:
        stmt = stmt.where(Box.node_id == node_id)
    if zone_id is not None:
        stmt = stmt.where(Box.zone_id == zone_id)
    return [_box_out(b) for b in await uow.session.scalars(stmt)]


@router.get("/boxes/{box_id}", response_model=BoxDetail, tags=["boxes"])
async def get_box(box_id: UUID, uow: UowDep) -> BoxDetail:
    """State, distro and the history of transitions with their timestamps."""
    box = await _box(uow, box_id)
    history = await uow.session.scalars(
        select(BoxTransition).where(BoxTransition.box_id == box_id).order_by(BoxTransition.id)
    )
    return BoxDetail(
        **_box_out(box).model_dump(), history=[TransitionOut.model_validate(t) for t in history]
    )


@router.get("/boxes/{box_id}/config", response_model=BoxConfig, tags=["boxes"])
async def get_box_config(
    box_id: UUID,
    uow: UowDep,
    principal: PrincipalDep,
    runtime: ProvisionerRuntimeDep,
    request: Request,
    response: Response,
) -> BoxConfig:
    """The configuration a box is set up with, with a new token: for its node's owners (the
    owning member; the owning group's node_admin and group_admin) and operators. Each call
    issues a new token and the previous one stops working: the box must run with the
    configuration fetched last (so a ``HEAD``, which would drop the new token, is a 405)."""
    if is_head(request):
        raise MethodNotAllowed("HEAD would issue a new token and drop it: GET the config")
    box = await _box(uow, box_id)
    access.ensure_box_technician(principal, box)
    if box.state == "registered":
        raise NotFound(f"box {box_id} is not configured yet")
    token = box_tokens.issue(box)
    trusted_keys = await distro_choice.trusted_keys(uow)
    await uow.commit()
    response.headers["Cache-Control"] = "no-store"
    settings = runtime.settings
    return BoxConfig(
        box_id=box.id,
        token=token,
        provisioner_url=settings.base_url,
        nats_url=settings.box_nats_url or settings.nats_url,
        heartbeat_interval_s=settings.box_heartbeat_interval_s,
        trusted_keys=trusted_keys,
    )


@router.delete(
    "/boxes/{box_id}/token",
    status_code=204,
    response_class=Response,
    tags=["boxes"],
    responses={
        401: {"description": "No token, or a wrong one"},
        403: {"description": "Not an operator, or a token without the boxes.write scope"},
        404: {"description": "A box that does not exist"},
    },
)
async def revoke_box_token(box_id: UUID, uow: UowDep, principal: PrincipalDep) -> Response:
    """Revoke the box's token (operators only): its agent is refused at once (401) until
    someone allowed fetches its configuration again, which issues a new one."""
    access.ensure_operator(principal, access.BOXES_WRITE)
    box = await _box(uow, box_id)
    box_tokens.revoke(box)
    await uow.commit()
    return Response(status_code=204)


BOX_TOKEN = HTTPBearer(auto_error=False, scheme_name="BoxToken", description="The box's own token")


async def _authenticated_box(
    box_id: UUID,
    uow: UowDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(BOX_TOKEN)],
) -> Box:
    box = await _box(uow, box_id)
    presented = credentials.credentials.strip() if credentials is not None else ""
    if not box_tokens.matches(box, presented):
        raise Unauthorized("this box's token is required (Authorization: Bearer <token>)")
    return box


@router.get("/boxes/{box_id}/desired", response_model=DesiredState, tags=["agents"])
async def get_desired_state(
    box: Annotated[Box, Depends(_authenticated_box)], uow: UowDep, runtime: ProvisionerRuntimeDep
) -> DesiredState:
    """What the box's agent fetches on every (re)connect."""
    settings = runtime.settings
    distro = DistroSpec.model_validate(box.desired_distro) if box.desired_distro else None
    return DesiredState(
        box_id=box.id,
        generation=box.generation,
        distro=distro,
        heartbeat_interval_s=settings.box_heartbeat_interval_s,
        trusted_keys=await distro_choice.trusted_keys(uow),
        key_names=await distro_choice.key_names(uow),
        slivers=await box_slivers(uow, box.id),
    )


@router.get("/distros", response_model=list[DistroOut], tags=["distros"])
async def list_distros(uow: UowDep) -> list[DistroImage]:
    """The images known from the image store's events, newest first."""
    rows = await uow.session.scalars(select(DistroImage).order_by(DistroImage.published_at.desc()))
    return list(rows)


ASSIGN_REFUSED: dict[int | str, dict[str, Any]] = {
    401: {"description": "No token, or a wrong one"},
    403: {"description": "Not an operator, or a token without the boxes.write scope"},
    404: {"description": "A box that does not exist"},
    409: {"description": "A box not configured yet, or no such distro for its arch"},
    413: {"description": "A request body over 1 MiB"},
}


@router.post(
    "/boxes/{box_id}/distro",
    response_model=DistroAssigned,
    tags=["distros"],
    responses=ASSIGN_REFUSED,
)
async def assign_box_distro(
    box_id: UUID,
    body: DistroAssignIn,
    uow: UowDep,
    principal: PrincipalDep,
    runtime: ProvisionerRuntimeDep,
) -> DistroAssigned:
    """Move one box to a distro version, the current one by default (operators only): a
    published distro reaches only boxes that have none."""
    access.ensure_operator(principal, access.BOXES_WRITE)
    [moved] = await distro_rollout.assign_distro(uow, runtime.settings, [box_id], body.version)
    await uow.commit()
    return DistroAssigned(**asdict(moved))


@router.post(
    "/distros/assign",
    response_model=list[DistroAssigned],
    tags=["distros"],
    responses=ASSIGN_REFUSED,
)
async def assign_distro(
    body: DistroRolloutIn, uow: UowDep, principal: PrincipalDep, runtime: ProvisionerRuntimeDep
) -> list[DistroAssigned]:
    """Move the listed boxes (every configured box if none listed) to a distro version, the
    current one by default (operators only); all or none."""
    access.ensure_operator(principal, access.BOXES_WRITE)
    moved = await distro_rollout.assign_distro(uow, runtime.settings, body.box_ids, body.version)
    await uow.commit()
    return [DistroAssigned(**asdict(m)) for m in moved]


def create_app(runtime: ProvisionerRuntime) -> FastAPI:
    app = create_base_app(
        runtime,
        title="guifi-cloud provisioner",
        description="Cloud boxes (configuration, credentials, distro, state) and the slices "
        "of slivers placed on them.",
    )
    app.include_router(router)
    app.include_router(slices_router)
    return app
