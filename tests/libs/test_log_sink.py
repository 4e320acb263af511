"""A process whose log pipe breaks keeps running and keeps its log, in a file."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from guificloud.devservers.ports import free_port
from guificloud.testing.authority import ADMIN_TOKEN

CHILD = """
import sys
from pathlib import Path
from guificloud.logging import configure_logging, get_logger

configure_logging("child", fmt="json", fallback=Path(sys.argv[1]))
log = get_logger()
log.info("before")
sys.stdin.readline()  # the reader has gone
for n in range(200):
    log.info("after", n=n)
print("printed", flush=True)
"""


@pytest.mark.unit
def test_logging_moves_to_the_fallback_file_when_stdout_breaks(tmp_path: Path) -> None:
    fallback = tmp_path / "logs" / "child.log"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(fallback)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert child.stdin is not None and child.stdout is not None
    assert b'"before"' in child.stdout.readline()
    child.stdout.close()
    child.stdin.write(b"go\n")
    child.stdin.close()
    assert child.wait(30) == 0
    text = fallback.read_text()
    assert '"n": 199' in text and "printed" in text


@pytest.mark.integration
def test_a_service_whose_log_pipe_breaks_keeps_serving(
    database_url: str, nats_url: str, tmp_path: Path
) -> None:
    port = free_port()
    env = {
        **os.environ,
        "GUIFICLOUD_DATABASE_URL": database_url,
        "GUIFICLOUD_NATS_URL": nats_url,
        "GUIFICLOUD_DATA_DIR": str(tmp_path),
        "GUIFICLOUD_LOG_FORMAT": "json",
        "GUIFICLOUD_ENVIRONMENT": "test",
    }
    service = subprocess.Popen(
        [sys.executable, "-m", "guificloud_registry", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        assert service.stdout is not None
        while b"service.started" not in service.stdout.readline():
            assert service.poll() is None, "the registry exited while starting"
        service.stdout.close()
        operator = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        with httpx.Client(base_url=url, timeout=10, headers=operator) as http:
            top = http.post("/api/v1/zones", json={"name": "top"}).json()
            sub = http.post("/api/v1/zones", json={"name": "sub"}).json()
            moved = http.patch(f"/api/v1/zones/{sub['id']}", json={"parent_id": top["id"]})
            assert moved.status_code == 200, moved.text  # it logged "zone.moved"
            assert http.get("/readyz").status_code == 200
        assert service.poll() is None
        log = tmp_path / "logs" / "registry.log"
        deadline = time.monotonic() + 5
        while "zone.moved" not in (log.read_text() if log.exists() else ""):
            assert time.monotonic() < deadline, "the log never reached the fallback file"
            time.sleep(0.1)
    finally:
        service.terminate()
        service.wait(20)
