"""The monitor's HTTP API under ``/api/v1``: availability of boxes and of the fleet."""

from __future__ import annotations

import dataclasses
from uuid import UUID

from fastapi import APIRouter, FastAPI, Query
from sqlalchemy import func, select

from guificloud.db.uow import UnitOfWork
from guificloud.errors import NotFound
from guificloud.http import UowDep, create_base_app
from guificloud_monitor.availability import Availability
from guificloud_monitor.models import AvailabilityTransition, Box, HeartbeatRecord
from guificloud_monitor.runtime import MonitorRuntime, MonitorRuntimeDep
from guificloud_monitor.schemas import (
    BoxOut,
    FleetOut,
    HeartbeatOut,
    IngestStatsOut,
    TransitionOut,
    ZoneCounts,
)

router = APIRouter(prefix="/api/v1")


async def _box(uow: UnitOfWork, box_id: UUID) -> Box:
    box: Box | None = await uow.session.get(Box, box_id)
    if box is None:
        raise NotFound(f"box {box_id} not known to the monitor")
    return box


@router.get("/boxes", response_model=list[BoxOut], tags=["boxes"])
async def list_boxes(
    uow: UowDep,
    state: Availability | None = None,
    zone_id: UUID | None = None,
    node_id: UUID | None = None,
    limit: int = Query(500, ge=1, le=5000),
) -> list[Box]:
    stmt = select(Box).order_by(Box.created_at, Box.box_id).limit(limit)
    if state is not None:
        stmt = stmt.where(Box.state == state)
    if zone_id is not None:
        stmt = stmt.where(Box.zone_id == zone_id)
    if node_id is not None:
        stmt = stmt.where(Box.node_id == node_id)
    return list(await uow.session.scalars(stmt))


@router.get("/boxes/{box_id}", response_model=BoxOut, tags=["boxes"])
async def get_box(box_id: UUID, uow: UowDep) -> Box:
    """Availability, last heartbeat, latest metrics, and the box's node and zone."""
    return await _box(uow, box_id)


@router.get("/boxes/{box_id}/heartbeats", response_model=list[HeartbeatOut], tags=["boxes"])
async def list_heartbeats(
    box_id: UUID, uow: UowDep, limit: int = Query(100, ge=1, le=10_000)
) -> list[HeartbeatRecord]:
    """Heartbeat history, newest first (kept for ``heartbeat_retention_s``)."""
    await _box(uow, box_id)
    stmt = (
        select(HeartbeatRecord)
        .where(HeartbeatRecord.box_id == box_id)
        .order_by(HeartbeatRecord.sent_at.desc())
        .limit(limit)
    )
    return list(await uow.session.scalars(stmt))


@router.get("/boxes/{box_id}/transitions", response_model=list[TransitionOut], tags=["boxes"])
async def list_transitions(
    box_id: UUID, uow: UowDep, limit: int = Query(1000, ge=1, le=10_000)
) -> list[AvailabilityTransition]:
    """Every change of availability, oldest first."""
    await _box(uow, box_id)
    stmt = (
        select(AvailabilityTransition)
        .where(AvailabilityTransition.box_id == box_id)
        .order_by(AvailabilityTransition.id)
        .limit(limit)
    )
    return list(await uow.session.scalars(stmt))


@router.get("/fleet", response_model=FleetOut, tags=["fleet"])
async def fleet(uow: UowDep) -> FleetOut:
    """How many boxes are online, offline and unknown, overall and per zone."""
    rows = await uow.session.execute(
        select(Box.zone_id, Box.state, func.count()).group_by(Box.zone_id, Box.state)
    )
    total = FleetOut(zones=[])
    zones: dict[UUID | None, ZoneCounts] = {}
    for zone_id, state, count in rows:
        zone = zones.setdefault(zone_id, ZoneCounts(zone_id=zone_id))
        for counts in (zone, total):
            setattr(counts, state, getattr(counts, state) + count)
            counts.total += count
    total.zones = sorted(zones.values(), key=lambda z: (z.zone_id is None, str(z.zone_id)))
    return total


@router.get("/ingest", response_model=IngestStatsOut, tags=["ingest"])
async def ingest_stats(runtime: MonitorRuntimeDep) -> IngestStatsOut:
    """Heartbeat ingest counters of this instance (each instance counts its own share)."""
    return IngestStatsOut(**dataclasses.asdict(runtime.resources.stats))


def create_app(runtime: MonitorRuntime) -> FastAPI:
    app = create_base_app(
        runtime,
        title="guifi-cloud monitor",
        description="Availability of the community boxes from their heartbeats, per box, "
        "node and zone.",
    )
    app.include_router(router)
    return app
