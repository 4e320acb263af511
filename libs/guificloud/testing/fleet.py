"""Simulated boxes in a process of their own: ``guificloud agent sim --adopt``.

A box starts as soon as the provisioner has configured it, as one its member plugs in, so
the boxes of a burst are already running when a fault strikes mid-burst. Started with the
``python -m`` of the agent, never imported: tests and benchmarks drive it like any process.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


class FleetProcess:
    def __init__(
        self,
        root: Path,
        *,
        registry_url: str,
        provisioner_url: str,
        admin_token: str,
        boxes: int,
        rate_limit_bps: int | None = None,
        log_level: str = "info",
    ) -> None:
        """``root``: the fleet's folder (one per box inside) and its log, ``fleet.log``."""
        self.log_path = root / "fleet.log"
        self.argv = [
            sys.executable,
            "-m",
            "guificloud_agent",
            "sim",
            "--adopt",
            "--boxes",
            str(boxes),
            "--registry-url",
            registry_url,
            "--provisioner-url",
            provisioner_url,
            "--cache-dir",
            str(root / "fleet"),
        ]
        if rate_limit_bps:
            self.argv += ["--rate-limit", str(rate_limit_bps)]
        self.env = {
            **os.environ,
            "GUIFICLOUD_ADMIN_TOKEN": admin_token,
            "GUIFICLOUD_LOG_FORMAT": "json",
            "GUIFICLOUD_LOG_LEVEL": log_level,
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> FleetProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as out:
            self.process = subprocess.Popen(
                self.argv, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        return self

    def stop(self, timeout_s: float = 15.0) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def tail(self, lines: int = 30) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
