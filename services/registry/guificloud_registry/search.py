"""Listing and filtering at network scale (guifi.net: 40,000+ nodes, 2,000+ zones).

Every filter is an indexed predicate: a zone subtree is a prefix of the materialized path
(``zones.path``, byte-wise collation), a bounding box a GiST search on
``point(longitude, latitude)``, text an ``ILIKE`` that ignores accents too, served by
pg_trgm on the unaccented names, device type an
index-only semi-join. Pages are keyset pages over ``(created_at, id)`` (zones:
``(name, id)``), so a deep page costs what the first does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Select, and_, exists, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from guificloud.errors import InvalidQuery
from guificloud_registry.models import Device, Node, Service, Zone, unaccented


@dataclass(frozen=True)
class BBox:
    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float

    @classmethod
    def parse(cls, raw: str) -> BBox:
        """``min_lon,min_lat,max_lon,max_lat`` as in CNML and most map tools."""
        try:
            parts = [float(p) for p in raw.split(",")]
        except ValueError:
            parts = []
        if len(parts) != 4:
            raise InvalidQuery("bbox is min_lon,min_lat,max_lon,max_lat in degrees", field="bbox")
        box = cls(*parts)
        if not (
            -180 <= box.min_lon <= box.max_lon <= 180 and -90 <= box.min_lat <= box.max_lat <= 90
        ):
            raise InvalidQuery(
                "bbox must lie within ±180/±90 with minimums below maximums", field="bbox"
            )
        return box


@dataclass(frozen=True)
class Filters:
    """What lists can be filtered by; each entity uses the ones that apply to it."""

    within: UUID | None = None
    zone_id: UUID | None = None
    node_id: UUID | None = None
    device_id: UUID | None = None
    status: Sequence[str] = ()
    device_type: Sequence[str] = ()
    service_type: Sequence[str] = ()
    bbox: BBox | None = None
    q: str | None = None
    external_id: int | None = None


def like_pattern(q: str) -> str:
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def text_in(column: Any, q: str) -> ColumnElement[bool]:
    """``q`` anywhere in ``column``, ignoring case and accents ("malaga" finds "Málaga"):
    both sides unaccented, the same expression as the column's trigram index."""
    matched: ColumnElement[bool] = unaccented(column).ilike(unaccented(like_pattern(q)))
    return matched


async def subtree_prefix(session: AsyncSession, zone_id: UUID) -> str:
    path = await session.scalar(select(Zone.path).where(Zone.id == zone_id))
    if path is None:
        raise InvalidQuery(f"unknown zone {zone_id}", field="within")
    return path


def path_within(prefix: str) -> ColumnElement[bool]:
    """Paths starting with ``prefix`` as a range (paths hold only hex digits and ``/``, the
    byte before ``0``), so that the index serves it with any plan, generic ones included."""
    return and_(Zone.path >= prefix, Zone.path < prefix[:-1] + "0")


def zones_under(prefix: str) -> Select[Any]:
    return select(Zone.id).where(path_within(prefix))


def in_bbox(box: BBox) -> ColumnElement[bool]:
    """The same expression as the GiST index ``ix_registry_nodes_location``."""
    return text(
        "point(registry.nodes.longitude, registry.nodes.latitude)"
        " <@ box(point(:bx1, :by1), point(:bx2, :by2))"
    ).bindparams(bx1=box.min_lon, by1=box.min_lat, bx2=box.max_lon, by2=box.max_lat)  # type: ignore[return-value]


async def node_conditions(session: AsyncSession, f: Filters) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if f.within is not None:
        where.append(Node.zone_id.in_(zones_under(await subtree_prefix(session, f.within))))
    if f.zone_id is not None:
        where.append(Node.zone_id == f.zone_id)
    if f.status:
        where.append(Node.status.in_(f.status))
    if f.device_type:
        where.append(exists().where(Device.node_id == Node.id, Device.type.in_(f.device_type)))
    if f.bbox is not None:
        where.append(in_bbox(f.bbox))
    if f.q:
        where.append(or_(text_in(Node.name, f.q), text_in(Node.nick, f.q)))
    if f.external_id is not None:
        where.append(Node.external_id == f.external_id)
    return where


async def device_conditions(session: AsyncSession, f: Filters) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if f.within is not None:
        nodes = select(Node.id).where(
            Node.zone_id.in_(zones_under(await subtree_prefix(session, f.within)))
        )
        where.append(Device.node_id.in_(nodes))
    if f.node_id is not None:
        where.append(Device.node_id == f.node_id)
    if f.status:
        where.append(Device.status.in_(f.status))
    if f.device_type:
        where.append(Device.type.in_(f.device_type))
    if f.q:
        where.append(text_in(Device.name, f.q))
    if f.external_id is not None:
        where.append(Device.external_id == f.external_id)
    return where


async def service_conditions(session: AsyncSession, f: Filters) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if f.within is not None or f.node_id is not None:
        devices = select(Device.id)
        if f.within is not None:
            devices = devices.join(Node, Node.id == Device.node_id).where(
                Node.zone_id.in_(zones_under(await subtree_prefix(session, f.within)))
            )
        if f.node_id is not None:
            devices = devices.where(Device.node_id == f.node_id)
        where.append(Service.device_id.in_(devices))
    if f.device_id is not None:
        where.append(Service.device_id == f.device_id)
    if f.status:
        where.append(Service.status.in_(f.status))
    if f.service_type:
        where.append(Service.type.in_(f.service_type))
    if f.q:
        where.append(text_in(Service.name, f.q))
    if f.external_id is not None:
        where.append(Service.external_id == f.external_id)
    return where


async def zone_conditions(
    session: AsyncSession, f: Filters, *, parent_id: UUID | None, name: str | None
) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if f.within is not None:
        where.append(path_within(await subtree_prefix(session, f.within)))
    if parent_id is not None:
        where.append(Zone.parent_id == parent_id)
    if name is not None:
        where.append(Zone.name == name)
    if f.q:
        where.append(text_in(Zone.name, f.q))
    if f.external_id is not None:
        where.append(Zone.external_id == f.external_id)
    return where
