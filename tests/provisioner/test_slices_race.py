"""Two transactions really racing for the same boxes: the second chose them before the
first committed, waits on the row locks, and then takes only what is still free."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from uuid import UUID, uuid4

import pytest
import pytest_asyncio
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from guificloud.db import migrations
from guificloud.db.engine import make_engine, make_session_factory
from guificloud.db.uow import UnitOfWork
from guificloud.errors import Conflict
from guificloud.testing.authority import ADMIN_TOKEN
from guificloud_provisioner.models import Box, messaging
from guificloud_provisioner.settings import ProvisionerSettings
from guificloud_provisioner.slices import placement
from guificloud_provisioner.slices.scheduler import PlacementRequest

pytestmark = pytest.mark.integration
SETTINGS = ProvisionerSettings(admin_token=ADMIN_TOKEN)  # built at import, before the fixtures
ONE_SLIVER = PlacementRequest(count=0, memory_mb=1024, disk_mb=200, spread=False)


@pytest_asyncio.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database_url)
    await migrations.upgrade(engine, "guificloud_provisioner:migrations", "provisioner")
    yield engine
    await engine.dispose()


async def _boxes(engine: AsyncEngine, n: int) -> list[UUID]:
    """``n`` ready boxes with room for one sliver of 1024 MB each."""
    factory = make_session_factory(engine)
    ids = [uuid4() for _ in range(n)]
    async with factory() as session, session.begin():
        for box_id in ids:
            session.add(
                Box(
                    id=box_id,
                    node_id=uuid4(),
                    zone_id=uuid4(),
                    name="b",
                    device_type="cloudy",
                    arch="amd64",
                    cores=2,
                    ram_mb=2048,
                    disk_gb=8,
                    state="ready",
                    generation=1,
                    online=True,
                )
            )
    return ids


def _uow(engine: AsyncEngine) -> UnitOfWork:
    return UnitOfWork(make_session_factory(engine), messaging, source="test")


async def _waiting_on_locks(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(text("SELECT count(*) FROM pg_locks WHERE NOT granted")) or 0)


async def _race(engine: AsyncEngine, first: int, second: int) -> tuple[list[UUID], object]:
    async with _uow(engine) as a, _uow(engine) as b:
        taken = await placement.place_count(a, SETTINGS, replace(ONE_SLIVER, count=first), None)
        later = asyncio.create_task(
            placement.place_count(b, SETTINGS, replace(ONE_SLIVER, count=second), None)
        )
        for _ in range(200):  # the second is blocked on the first's locked rows
            if await _waiting_on_locks(engine):
                break
            await asyncio.sleep(0.02)
        else:
            raise AssertionError("the second placement never waited on the first")
        assert not later.done()
        await a.commit()
        try:
            result: object = await later
            await b.commit()
        except Conflict as exc:
            result = exc
        return taken, result


async def test_the_loser_takes_only_what_is_left(engine: AsyncEngine) -> None:
    ids = await _boxes(engine, 5)
    taken, result = await _race(engine, 3, 2)
    assert isinstance(result, list) and len(result) == 2
    assert set(taken) | set(result) == set(ids) and not set(taken) & set(result)
    await _assert_never_over_committed(engine)


async def test_the_loser_is_refused_when_too_little_is_left(engine: AsyncEngine) -> None:
    await _boxes(engine, 5)
    taken, result = await _race(engine, 3, 3)
    assert len(taken) == 3
    assert isinstance(result, Conflict) and "only 2 of the 3" in str(result)
    await _assert_never_over_committed(engine)


async def _assert_never_over_committed(engine: AsyncEngine) -> None:
    async with make_session_factory(engine)() as session:
        for box in await session.scalars(select(Box)):
            assert box.allocated_memory_mb <= box.ram_mb - SETTINGS.box_reserve_memory_mb
            assert box.allocated_memory_mb in (0, 1024)
