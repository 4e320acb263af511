"""``guificloud dev`` as a subprocess on free ports with its own data folder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import httpx
import psutil

from guificloud.devservers.ports import free_port
from tests.e2e.slices_helpers import wait_for
from tests.e2e.system import SERVICES


class Dev:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.ports = {name: free_port() for name in (*SERVICES, "nats", "postgres")}
        self.log = data_dir.parent / f"{data_dir.name}.out"
        self.process: subprocess.Popen[bytes] | None = None

    def start(
        self,
        env: Mapping[str, str] | None = None,
        *,
        seed: bool = False,
        flags: Sequence[str] = (),
    ) -> Dev:
        """``env``: settings for the services dev starts (they inherit dev's environment);
        ``seed``: publish the stand-in distro, as dev does by default; ``flags``: more of
        dev's flags."""
        argv = [str(Path(sys.executable).with_name("guificloud")), "dev", *flags]
        argv += ["--seed"] if seed else ["--no-seed"]
        argv += ["--data-dir", str(self.data_dir)]
        for name, port in self.ports.items():
            argv += [f"--{name}-port", str(port)]
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                argv, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
            )
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def ready(self) -> bool:
        for name in SERVICES:
            try:
                url = f"http://127.0.0.1:{self.ports[name]}/readyz"
                if httpx.get(url, timeout=1.0).status_code != 200:
                    return False
            except httpx.HTTPError:
                return False
        return True

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        wait_for(self.ready, timeout_s, self.tail)

    def child(self, name: str) -> psutil.Process | None:
        """dev's own child called ``name`` (``postgres``: the postmaster)."""
        for child in psutil.Process(self.pid).children():
            if alive(child) and child.name() == name:
                return child
        return None

    def descendants(self) -> list[psutil.Process]:
        return list(psutil.Process(self.pid).children(recursive=True))

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def tail(self, lines: int = 40) -> str:
        if not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def alive(process: psutil.Process) -> bool:
    """Running and not a zombie: a zombie whose parent died is not a process of ours."""
    try:
        return bool(process.is_running() and process.status() != psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return False


def kill_all(processes: list[psutil.Process]) -> None:
    for process in processes:
        if alive(process):
            try:
                os.kill(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
