"""Nothing is lost when the infrastructure falters: a burst of cloud boxes is added while a
service, NATS, PostgreSQL or ``guificloud dev`` itself is killed, and ends with every box
ready, one box per device, one node per create request, no dead letter and no process left.

PostgreSQL stays down ``GUIFICLOUD_FAULT_PG_DOWN_S`` seconds (90 by default: longer than any
retry budget in the system, so that only keeping messages for as long as an outage lasts
passes).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from guificloud.devservers.nats import NatsServer
from guificloud.devservers.ports import free_port
from guificloud.devservers.postgres import PostgresServer
from guificloud.testing.burst import Burst
from guificloud.testing.fleet import FleetProcess
from guificloud.testing.processes import ServiceProcess
from guificloud_imagestore.distro import build_distro_rootfs
from tests.e2e.dev_helpers import Dev
from tests.e2e.fault_helpers import (
    BURST,
    Started,
    assert_nothing_lost,
    assert_outage_logged_briefly,
    get_json,
    wait_all_ready,
)
from tests.e2e.slices_helpers import wait_for
from tests.e2e.system import ADMIN_TOKEN, SERVICES, System, upload_distro

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

PG_DOWN_S = float(os.environ.get("GUIFICLOUD_FAULT_PG_DOWN_S", "90"))
NATS_DOWN_S = 15.0
MID_BURST = 5
"""The fault strikes once this many devices of the burst have been created."""
CONVERGE_S = 60.0
MIB = 1024 * 1024


@pytest.fixture
def started() -> Iterator[Started]:
    """First in, last out: checked after everything the test started was stopped."""
    watch = Started()
    yield watch
    watch.assert_none_left()


@contextlib.contextmanager
def running(started: Started, database_url: str, nats_url: str, root: Path) -> Iterator[System]:
    """Every service as a process of its own, watched by ``started``."""
    system = System(database_url, nats_url, root)
    try:
        system.start()
        started.note()
        yield system
    finally:
        started.note()
        system.stop()


@pytest.fixture
def with_distro(
    started: Started, database_url: str, nats_url: str, tmp_path: Path, distro_v1: Path
) -> Iterator[System]:
    with running(started, database_url, nats_url, tmp_path) as system:
        system.upload_distro(distro_v1, "1.0.0")
        yield system


def _through(
    system: System,
    started: Started,
    fault: Callable[[Burst], None],
    *,
    rate_limit_bps: int | None = None,
) -> None:
    """Add the burst with the fleet running, strike with ``fault`` mid-burst, and check."""
    _burst_through(
        system.urls,
        ADMIN_TOKEN,
        system.root,
        started,
        fault,
        lambda: system.services["provisioner"].tail(),
        rate_limit_bps=rate_limit_bps,
    )


def _burst_through(
    urls: dict[str, str],
    token: str,
    root: Path,
    started: Started,
    fault: Callable[[Burst], None],
    why: Callable[[], str],
    *,
    rate_limit_bps: int | None = None,
) -> None:
    fleet = FleetProcess(
        root,
        registry_url=urls["registry"],
        provisioner_url=urls["provisioner"],
        admin_token=token,
        boxes=2 * BURST,  # room for a box made twice, to be counted rather than starve one
        rate_limit_bps=rate_limit_bps,
    ).start()
    try:
        burst = Burst(urls["registry"], token, BURST).start()
        wait_for(lambda: burst.created() >= MID_BURST or burst.error is not None, 60)
        started.note()
        fault(burst)
        started.note()
        burst.wait(PG_DOWN_S + CONVERGE_S)
        wait_all_ready(
            urls["provisioner"],
            token,
            burst.device_ids,
            CONVERGE_S,
            lambda: fleet.tail() + "\n" + why(),
        )
        assert_nothing_lost(urls, token, burst)
    finally:
        started.note()
        fleet.stop()


def _restart(system: System, name: str) -> None:
    """SIGKILL, and started again at once, as ``guificloud dev`` does."""
    service = system.services[name]
    service.kill()
    service.start(wait=False)


def test_the_provisioner_killed_mid_burst(with_distro: System, started: Started) -> None:
    _through(with_distro, started, lambda _burst: _restart(with_distro, "provisioner"))


def test_the_registry_killed_mid_burst_and_after_a_commit_before_its_answer(
    with_distro: System, started: Started, tmp_path: Path
) -> None:
    """Killed at any moment, then again right after committing a node or device and before
    answering: the client's retry must get that answer, not create a second one."""
    registry = with_distro.services["registry"]

    def fault(_burst: Burst) -> None:
        registry.kill()
        (tmp_path / "crashing").mkdir()
        crashing = ServiceProcess(
            "guificloud_registry",
            port=registry.port,
            env={**with_distro.env, "GUIFICLOUD_FAILPOINTS": "registry.committed_unpublished=kill"},
            log_dir=tmp_path / "crashing",
        ).start(wait=False)
        started.note()
        assert crashing.process is not None
        assert crashing.process.wait(60) == -signal.SIGKILL, "the failpoint was never reached"
        registry.start(wait=False)

    _through(with_distro, started, fault)


def test_the_monitor_killed_while_boxes_report(with_distro: System, started: Started) -> None:
    def fault(_burst: Burst) -> None:
        def some_online() -> bool:
            url = with_distro.url("monitor", "/api/v1/boxes")
            return sum(b["state"] == "online" for b in get_json(url, ADMIN_TOKEN)) >= 3

        wait_for(some_online, 30)
        _restart(with_distro, "monitor")

    _through(with_distro, started, fault)


def test_the_image_store_killed_mid_download(
    started: Started, database_url: str, nats_url: str, tmp_path: Path
) -> None:
    # bigger than what the socket buffers hold, so the kill cuts the download short
    big = build_distro_rootfs(tmp_path / "big.tar.gz", "2.0.0", padding_bytes=16 * MIB)
    with running(started, database_url, nats_url, tmp_path) as system:
        image = system.upload_distro(big, "2.0.0")
        digest = image["digest"].split(":")[1]
        partial = tmp_path / "fleet" / "blobs" / "sha256" / f"{digest}.partial"

        def fault(_burst: Burst) -> None:
            wait_for(lambda: partial.exists() and partial.stat().st_size > MIB, 60)
            _restart(system, "imagestore")

        _through(system, started, fault, rate_limit_bps=4 * MIB)
        starts = [
            json.loads(line)
            for line in (tmp_path / "fleet.log").read_text().splitlines()
            if '"download.started"' in line
        ]
        offsets = [start["offset"] for start in starts]
        assert len(offsets) >= 2 and min(offsets[1:]) > 0, f"cut short, then resumed: {offsets}"


@pytest.fixture
def own_nats(started: Started, tmp_path: Path) -> Iterator[NatsServer]:
    server = NatsServer(tmp_path / "nats", port=free_port())
    server.start(log_file=tmp_path / "nats.log")
    try:
        yield server
    finally:
        server.stop()


def test_nats_down_15s_mid_burst(
    started: Started, database_url: str, own_nats: NatsServer, tmp_path: Path, distro_v1: Path
) -> None:
    def fault(_burst: Burst) -> None:
        assert own_nats.process is not None
        own_nats.process.kill()
        own_nats.process.wait()
        time.sleep(NATS_DOWN_S)
        own_nats.start(log_file=tmp_path / "nats.log")

    with running(started, database_url, own_nats.url, tmp_path) as system:
        system.upload_distro(distro_v1, "1.0.0")
        _through(system, started, fault)
    assert_outage_logged_briefly(tmp_path, NATS_DOWN_S)


@pytest.fixture
def own_postgres(started: Started, tmp_path: Path) -> Iterator[PostgresServer]:
    # durable commits, as in the embedded default: without, a crash loses the last ones
    server = PostgresServer(tmp_path / "postgres", port=free_port())
    server.start(log_file=tmp_path / "postgres.log")
    try:
        server.create_database("guificloud")
        yield server
    finally:
        server.stop()


@pytest.mark.timeout(PG_DOWN_S + 180)
def test_postgres_killed_and_back_after_90s_mid_burst(
    started: Started,
    own_postgres: PostgresServer,
    nats_url: str,
    tmp_path: Path,
    distro_v1: Path,
) -> None:
    def fault(_burst: Burst) -> None:
        assert own_postgres.process is not None
        started.note()  # its backends, which die with it
        own_postgres.process.send_signal(signal.SIGKILL)
        own_postgres.process.wait()
        time.sleep(PG_DOWN_S)
        own_postgres.start(log_file=tmp_path / "postgres.log")

    with running(started, own_postgres.url("guificloud"), nats_url, tmp_path) as system:
        system.upload_distro(distro_v1, "1.0.0")
        _through(system, started, fault)
    assert_outage_logged_briefly(tmp_path, PG_DOWN_S)


def test_guificloud_dev_killed_and_started_again_mid_burst(
    started: Started, tmp_path: Path, distro_v1: Path
) -> None:
    unsigned = {"GUIFICLOUD_IMAGESTORE_REQUIRE_SIGNATURE": "false"}
    """The test publishes an unsigned distro, as the e2e system does (no seed, no key)."""
    dev = Dev(tmp_path / "data").start(unsigned)
    try:
        dev.wait_ready(90)
        started.note()
        token = (tmp_path / "data" / "admin-token").read_text().strip()
        urls = {name: f"http://127.0.0.1:{dev.ports[name]}" for name in SERVICES}
        with httpx.Client(timeout=30) as http:
            upload_distro(
                http,
                urls["imagestore"],
                distro_v1,
                "1.0.0",
                headers={"Authorization": f"Bearer {token}"},
            )

        def fault(_burst: Burst) -> None:
            assert dev.process is not None
            dev.process.kill()
            dev.process.wait()
            dev.start(unsigned).wait_ready(90)

        _burst_through(urls, token, tmp_path, started, fault, dev.tail)
    finally:
        started.note()
        dev.stop()
