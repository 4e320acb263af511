"""Where the test session's NATS and PostgreSQL come from.

In order: URLs given in ``GUIFICLOUD_TEST_NATS_URL`` and ``GUIFICLOUD_TEST_DATABASE_URL``;
containers through testcontainers where a Docker engine answers; else the embedded servers
from the wheels, started once per test session on free ports in a temporary folder.
"""

from __future__ import annotations

import contextlib
import importlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from guificloud.devservers.nats import NatsServer
from guificloud.devservers.ports import free_port
from guificloud.devservers.postgres import PostgresServer


@dataclass(frozen=True)
class Servers:
    nats_url: str
    admin_database_url: str
    origin: str


def _docker_available() -> bool:
    if os.environ.get("GUIFICLOUD_TEST_NO_DOCKER"):
        return False
    try:
        # By name: the repository's own docker/ folder would shadow the package for mypy.
        docker = importlib.import_module("docker")
        docker.from_env(timeout=2).ping()
    except Exception:  # noqa: BLE001 - any failure means no engine
        return False
    return True


@contextlib.contextmanager
def _containers() -> Iterator[Servers]:
    from testcontainers.core.container import DockerContainer
    from testcontainers.postgres import PostgresContainer

    with (
        PostgresContainer(
            "postgres:16",
            username="postgres",
            password="postgres",
            dbname="postgres",
            driver="asyncpg",
        ) as pg,
        DockerContainer("nats:2.10").with_command("-js").with_exposed_ports(4222) as nats,
    ):
        url = f"nats://{nats.get_container_host_ip()}:{nats.get_exposed_port(4222)}"
        yield Servers(nats_url=url, admin_database_url=pg.get_connection_url(), origin="docker")


@contextlib.contextmanager
def _embedded(root: Path) -> Iterator[Servers]:
    pg = PostgresServer(root / "postgres", port=free_port(), fsync=False)
    nats = NatsServer(root / "nats", port=free_port())
    pg.start(log_file=root / "postgres.log")
    try:
        nats.start(log_file=root / "nats.log")
        try:
            yield Servers(
                nats_url=nats.url, admin_database_url=pg.url("postgres"), origin="embedded"
            )
        finally:
            nats.stop()
    finally:
        pg.stop()


@contextlib.contextmanager
def session_servers(root: Path) -> Iterator[Servers]:
    nats_url = os.environ.get("GUIFICLOUD_TEST_NATS_URL")
    db_url = os.environ.get("GUIFICLOUD_TEST_DATABASE_URL")
    if nats_url and db_url:
        yield Servers(nats_url=nats_url, admin_database_url=db_url, origin="environment")
    elif _docker_available():
        with _containers() as servers:
            yield servers
    else:
        with _embedded(root) as servers:
            yield servers
