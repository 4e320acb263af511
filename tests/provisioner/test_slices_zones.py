"""The zone tree read model: fed one event at a time or by a whole CNML import, and the
subtree a placement's ``zone_id`` stands for."""

from __future__ import annotations

from collections.abc import AsyncIterator
from uuid import uuid4

import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine

from guificloud.db import migrations
from guificloud.db.engine import make_engine, make_session_factory
from guificloud.db.uow import UnitOfWork
from guificloud.events.registry import (
    ImportedChange,
    ZoneCreated,
    ZoneDeleted,
    ZonesImported,
    ZoneUpdated,
)
from guificloud_provisioner.models import messaging
from guificloud_provisioner.service import CONSUMERS
from guificloud_provisioner.slices.placement import zone_subtree

pytestmark = pytest.mark.integration

ZONE_HANDLERS = next(c.handlers for c in CONSUMERS if c.durable == "provisioner-zones")


@pytest_asyncio.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database_url)
    await migrations.upgrade(engine, "guificloud_provisioner:migrations", "provisioner")
    yield engine
    await engine.dispose()


async def _handle(engine: AsyncEngine, event: object) -> None:
    async with UnitOfWork(make_session_factory(engine), messaging, source="test") as uow:
        await ZONE_HANDLERS[type(event)](event, uow)
        await uow.commit()


async def _subtree(engine: AsyncEngine, zone_id: object) -> set[object]:
    async with UnitOfWork(make_session_factory(engine), messaging, source="test") as uow:
        return set(await zone_subtree(uow, zone_id))  # type: ignore[arg-type]


async def test_zone_tree_from_events_and_imports(engine: AsyncEngine) -> None:
    world, catalonia, osona, vic, valencia = (uuid4() for _ in range(5))
    await _handle(engine, ZoneCreated(zone_id=world, name="World", parent_id=None))
    # An import names parents as JSON strings, a child possibly before its parent.
    await _handle(
        engine,
        ZonesImported(
            import_id=uuid4(),
            changes=[
                ImportedChange(id=osona, verb="created", changes={"parent_id": str(catalonia)}),
                ImportedChange(id=catalonia, verb="created", changes={"parent_id": str(world)}),
                ImportedChange(id=vic, verb="created", changes={"parent_id": str(osona)}),
                ImportedChange(id=valencia, verb="created", changes={"parent_id": str(world)}),
                ImportedChange(id=world, verb="updated", changes={"name": "Earth"}),
            ],
        ),
    )
    assert await _subtree(engine, world) == {world, catalonia, osona, vic, valencia}
    assert await _subtree(engine, catalonia) == {catalonia, osona, vic}
    assert await _subtree(engine, vic) == {vic}

    # Osona moves under Valencia with its whole subtree.
    await _handle(engine, ZoneUpdated(zone_id=osona, changes={"parent_id": str(valencia)}))
    assert await _subtree(engine, catalonia) == {catalonia}
    assert await _subtree(engine, valencia) == {valencia, osona, vic}
    await _handle(engine, ZoneUpdated(zone_id=vic, changes={"name": "Vic"}))
    assert await _subtree(engine, osona) == {osona, vic}

    await _handle(engine, ZoneDeleted(zone_id=vic))
    assert await _subtree(engine, valencia) == {valencia, osona}
    unknown = uuid4()
    assert await _subtree(engine, unknown) == {unknown}
