"""What the bus tests share: messaging tables on a real database, a unit of work, waiting."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable

from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import AsyncEngine

from guificloud.db.engine import make_session_factory
from guificloud.db.messaging import MessagingTables, define_messaging_tables
from guificloud.db.uow import UnitOfWork

SCHEMA = "t"


async def create_messaging(engine: AsyncEngine) -> MessagingTables:
    metadata = MetaData(schema=SCHEMA)
    tables = define_messaging_tables(metadata)
    async with engine.begin() as conn:
        await conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}"))
        await conn.run_sync(metadata.create_all)
    return tables


def uow_factory(engine: AsyncEngine, tables: MessagingTables) -> Callable[..., UnitOfWork]:
    factory = make_session_factory(engine)

    def make(**kw: str) -> UnitOfWork:
        return UnitOfWork(factory, tables, source="test", **kw)

    return make


async def eventually(
    check: Callable[[], bool | Awaitable[bool]],
    *,
    timeout_s: float = 15.0,
    what: str = "condition",
) -> None:
    """Wait until ``check()`` (a bool, or an awaitable of one) holds."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not await _holds(check()):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{what} not reached within {timeout_s} s")
        await asyncio.sleep(0.05)


async def _holds(result: bool | Awaitable[bool]) -> bool:
    return await result if inspect.isawaitable(result) else result
