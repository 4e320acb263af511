"""``guificloud dev`` supervises all it starts: NATS and PostgreSQL are reaped and restarted
like the services, nothing outlives a killed dev, and the next run starts cleanly; its
identity service verifies every service's callers, and its first operator is made once."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from guificloud.devservers.ports import free_port
from guificloud.devservers.postgres import PostgresServer
from guificloud.settings import weak_admin_token
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


def test_dev_makes_the_first_operator_once_and_every_service_verifies_its_logins(
    dev: Dev,
) -> None:
    wait_for(lambda: "first operator created" in dev.tail(400), 60, dev.tail)
    data = dev.data_dir
    kept = data / "identity" / "operator.json"
    operator = json.loads(kept.read_text())
    token = (data / "admin-token").read_text().strip()
    for secret in (kept, data / "admin-token"):
        assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert weak_admin_token(token) is None, "dev's admin token is 32 random bytes"
    assert dev.tail(400).count(operator["password"]) == 1, "the password is printed once"

    login = httpx.post(
        f"{dev.url('identity')}/api/v1/auth/login",
        json={"login": operator["login"], "password": operator["password"]},
    )
    assert login.status_code == 200, login.text
    bearer = {"Authorization": f"Bearer {login.json()['access_token']}"}
    for name in ("registry", "provisioner", "monitor", "imagestore"):
        operators_only = f"{dev.url(name)}/api/v1/deadletters"
        assert httpx.get(operators_only).status_code == 401, name
        assert httpx.get(operators_only, headers=bearer).status_code == 200, name

    dev.stop()
    dev.start().wait_ready()
    wait_for(lambda: dev.tail(800).count(f"operator     {kept}") == 1, 60, dev.tail)
    log = dev.tail(800)
    assert log.count(operator["password"]) == 1, "printed again on a later start"
    assert json.loads(kept.read_text()) == operator
    assert (data / "admin-token").read_text().strip() == token
