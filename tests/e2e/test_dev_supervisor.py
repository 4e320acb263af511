"""``guificloud dev`` supervises all it starts: NATS and PostgreSQL are reaped and restarted
like the services, nothing outlives a killed dev, and the next run starts cleanly."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from guificloud.devservers.ports import free_port
from guificloud.devservers.postgres import PostgresServer
from tests.e2e.dev_helpers import Dev, alive, kill_all
from tests.e2e.slices_helpers import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]


@pytest.fixture
def dev(tmp_path: Path) -> Iterator[Dev]:
    running = Dev(tmp_path / "data").start()
    seen: list[psutil.Process] = []
    try:
        running.wait_ready()
        seen = running.descendants()
        yield running
    finally:
        if running.process is not None and running.process.poll() is None:
            seen += running.descendants()
        running.stop()
        kill_all(seen)


def _restarted(dev: Dev, name: str, old: psutil.Process) -> psutil.Process:
    found: list[psutil.Process] = []

    def new_child() -> bool:
        child = dev.child(name)
        if child is not None and child.pid != old.pid:
            found.append(child)
        return bool(found)

    wait_for(new_child, 30, dev.tail)
    return found[0]


def test_a_killed_postmaster_is_reaped_and_restarted(dev: Dev) -> None:
    postmaster = dev.child("postgres")
    assert postmaster is not None and postmaster.children(), "a postmaster with its backends"
    postmaster.kill()
    again = _restarted(dev, "postgres", postmaster)
    dev.wait_ready(30)
    assert again.ppid() == dev.pid
    assert not psutil.pid_exists(postmaster.pid), "the dead postmaster was never waited for"


def test_a_killed_nats_is_restarted_as_a_child_of_dev(dev: Dev) -> None:
    nats = dev.child("nats-server")
    assert nats is not None
    nats.kill()
    again = _restarted(dev, "nats-server", nats)
    dev.wait_ready(30)
    assert again.ppid() == dev.pid
    assert not psutil.pid_exists(nats.pid)


def test_a_killed_dev_leaves_nothing_and_the_next_run_starts(dev: Dev) -> None:
    processes = dev.descendants()
    names = {p.name() for p in processes}
    assert {"postgres", "nats-server"} <= names and len(processes) > 8
    assert dev.process is not None
    dev.process.kill()
    dev.process.wait()
    wait_for(
        lambda: not any(alive(p) for p in processes),
        10,
        lambda: f"left running: {[(p.pid, p.name()) for p in processes if alive(p)]}",
    )
    dev.start().wait_ready()


def test_dev_stops_a_postgres_an_earlier_run_left_on_its_data(tmp_path: Path) -> None:
    leftover = PostgresServer(tmp_path / "data" / "postgres", port=free_port(), fsync=False)
    leftover.start()
    dev = Dev(tmp_path / "data")
    try:
        assert leftover.process is not None
        dev.start().wait_ready()
        assert leftover.process.poll() is not None, "the earlier server still runs"
        assert "left running by an earlier run" in dev.tail(400)
    finally:
        dev.stop()
        leftover.stop()
