"""Each class of failure, from real exceptions: refused connections to a closed port, a real
deadlock, serialization failure and killed connection on the session's PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import nats
import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from guificloud.db.engine import make_engine
from guificloud.devservers.ports import free_port
from guificloud.errors import PermanentFailure
from guificloud.events.catalogue import decode
from guificloud.failures import Failure, classify, describe, kind


async def _raised(awaitable: object) -> BaseException:
    try:
        await awaitable  # type: ignore[misc]
    except Exception as exc:  # noqa: BLE001 - the exception under test
        return exc
    raise AssertionError("nothing raised")


@pytest.mark.unit
async def test_unreachable_database_bus_and_services_are_transient() -> None:
    closed = free_port()
    refused = await _raised(asyncpg.connect(host="127.0.0.1", port=closed, user="postgres"))
    assert isinstance(refused, OSError)
    engine = make_engine(f"postgresql+asyncpg://postgres@127.0.0.1:{closed}/postgres")
    try:
        through_engine = await _raised(engine.connect().__aenter__())
    finally:
        await engine.dispose()

    async def quiet(_exc: Exception) -> None:
        pass

    bus = await _raised(
        nats.connect(
            f"nats://127.0.0.1:{closed}",
            max_reconnect_attempts=1,
            reconnect_time_wait=0.01,
            error_cb=quiet,
        )
    )
    async with httpx.AsyncClient() as client:
        service = await _raised(client.get(f"http://127.0.0.1:{closed}/"))
    for exc in (refused, through_engine, bus, service):
        assert classify(exc) is Failure.TRANSIENT, repr(exc)
    assert kind(refused) == "ConnectionRefusedError"
    assert describe(service).startswith("ConnectError")


@pytest.mark.unit
async def test_a_timeout_is_transient() -> None:
    async def never() -> None:
        await asyncio.Event().wait()

    timed_out = await _raised(asyncio.wait_for(never(), timeout=0.01))
    assert classify(timed_out) is Failure.TRANSIENT


@pytest.mark.unit
def test_a_refusal_is_permanent_and_a_bug_is_unknown(tmp_path: Path) -> None:
    with pytest.raises(PermanentFailure) as malformed:
        decode(b'{"type": "registry.device.added"', subject="registry.device.added")
    assert classify(malformed.value) is Failure.PERMANENT
    assert classify(PermanentFailure("zone 7 does not exist")) is Failure.PERMANENT
    with pytest.raises(FileNotFoundError) as missing:
        (tmp_path / "absent").read_text()
    assert classify(missing.value) is Failure.UNKNOWN, "a missing file is ours, not an outage"
    with pytest.raises(KeyError) as bug:
        _ = dict[str, int]()["x"]
    assert classify(bug.value) is Failure.UNKNOWN
    wrapped = RuntimeError("handler failed")
    wrapped.__cause__ = ConnectionResetError("peer reset")
    assert classify(wrapped) is Failure.TRANSIENT, "the cause decides"
    assert kind(wrapped) == "ConnectionResetError"


@pytest_asyncio.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database_url)
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE pair (id int PRIMARY KEY, v int NOT NULL)"))
        await conn.execute(text("INSERT INTO pair VALUES (1, 0), (2, 0)"))
    yield engine
    await engine.dispose()


async def _bump(conn: AsyncConnection, row: int) -> None:
    await conn.execute(text("UPDATE pair SET v = v + 1 WHERE id = :id"), {"id": row})


@pytest.mark.integration
async def test_a_deadlock_is_transient(engine: AsyncEngine) -> None:
    async with engine.connect() as one, engine.connect() as two:
        await one.begin()
        await two.begin()
        await _bump(one, 1)
        await _bump(two, 2)
        outcomes = await asyncio.gather(_bump(one, 2), _bump(two, 1), return_exceptions=True)
    [deadlock] = [o for o in outcomes if isinstance(o, BaseException)]
    assert kind(deadlock) == "DeadlockDetectedError"
    assert classify(deadlock) is Failure.TRANSIENT


@pytest.mark.integration
async def test_a_serialization_failure_is_transient(engine: AsyncEngine) -> None:
    async with engine.connect() as one, engine.connect() as two:
        await one.begin()
        await one.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        await one.execute(text("SELECT v FROM pair WHERE id = 1"))  # its snapshot starts
        async with two.begin():
            await _bump(two, 1)
        failure = await _raised(_bump(one, 1))
    assert kind(failure) == "SerializationError"
    assert classify(failure) is Failure.TRANSIENT


@pytest.mark.integration
async def test_a_killed_connection_is_transient_a_broken_statement_is_not(
    engine: AsyncEngine,
) -> None:
    async with engine.connect() as victim:
        pid = (await victim.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        async with engine.connect() as killer:
            await killer.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        killed = await _raised(victim.execute(text("SELECT 1")))
        assert classify(killed) is Failure.TRANSIENT, describe(killed)
    async with engine.connect() as conn:
        duplicate = await _raised(conn.execute(text("INSERT INTO pair VALUES (1, 0)")))
    async with engine.connect() as conn:
        syntax = await _raised(conn.execute(text("SELEC 1")))
    assert classify(duplicate) is Failure.UNKNOWN
    assert classify(syntax) is Failure.UNKNOWN
