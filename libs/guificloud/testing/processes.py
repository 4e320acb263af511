"""Services as real processes, for end-to-end tests and benchmarks.

``ServiceProcess`` starts ``python -m <module> serve`` with the given environment, waits for
``/readyz``, and can be stopped (SIGTERM), killed (SIGKILL) and started again. With
``GUIFICLOUD_TLS_CERT`` in its environment it serves https, checked against
``GUIFICLOUD_TLS_CA``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

from guificloud.devservers.ports import free_port
from guificloud.tls import verify


class ServiceProcess:
    def __init__(
        self,
        module: str,
        *,
        env: Mapping[str, str],
        port: int | None = None,
        log_dir: Path | None = None,
    ) -> None:
        self.module = module
        self.port = port or free_port()
        self.env = {**os.environ, **env, "GUIFICLOUD_LOG_FORMAT": "json"}
        self.log_path = (log_dir / f"{module}.log") if log_dir else None
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        scheme = "https" if self.env.get("GUIFICLOUD_TLS_CERT") else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    def start(self, *, wait: bool = True, timeout_s: float = 60.0) -> ServiceProcess:
        out = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", self.module, "serve", "--port", str(self.port)],
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        if wait:
            self.wait_ready(timeout_s)
        return self

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        last = "no answer"
        ca = self.env.get("GUIFICLOUD_TLS_CA")
        trust = verify(Path(ca) if ca else None)
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.module} exited with {self.process.returncode}: {self.tail()}"
                )
            try:
                r = httpx.get(f"{self.url}/readyz", timeout=1.0, verify=trust)
                if r.status_code == 200:
                    return
                last = r.text
            except httpx.HTTPError as exc:
                last = str(exc)
            time.sleep(0.1)
        raise TimeoutError(f"{self.module} not ready after {timeout_s}s: {last}\n{self.tail()}")

    def tail(self, lines: int = 40) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, timeout_s: float = 15.0) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        """SIGKILL: no clean-up at all, as a crash or power loss."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
