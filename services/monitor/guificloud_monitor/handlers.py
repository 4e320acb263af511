"""What the monitor does with the events it consumes.

Each handler takes one event and the unit of work; the consumer layer commits, records the
event id in the inbox (idempotence) and turns failures into retries or dead letters.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast

from sqlalchemy import Table, func
from sqlalchemy.dialects.postgresql import insert

from guificloud.db.uow import UnitOfWork
from guificloud.events.provisioner import BoxRegistered
from guificloud.logging import get_logger
from guificloud_monitor.availability import UNKNOWN
from guificloud_monitor.models import Box

log = get_logger(__name__)

boxes = cast(Table, Box.__table__)


async def handle_box_registered(event: BoxRegistered, uow: UnitOfWork) -> None:
    """Learn where a box lives; its availability, if heartbeats came first, is left as it is."""
    now = datetime.now(UTC)
    stmt = insert(boxes).values(
        box_id=event.box_id,
        state=UNKNOWN,
        state_since=now,
        device_id=event.device_id,
        node_id=event.node_id,
        zone_id=event.zone_id,
        arch=event.arch,
        registered_at=now,
    )
    await uow.session.execute(
        stmt.on_conflict_do_update(
            index_elements=[boxes.c.box_id],
            set_={
                "device_id": stmt.excluded.device_id,
                "node_id": stmt.excluded.node_id,
                "zone_id": stmt.excluded.zone_id,
                "arch": stmt.excluded.arch,
                "registered_at": func.coalesce(boxes.c.registered_at, stmt.excluded.registered_at),
            },
        )
    )
    log.info(
        "box.registered",
        box_id=str(event.box_id),
        node_id=str(event.node_id),
        zone_id=str(event.zone_id),
    )
