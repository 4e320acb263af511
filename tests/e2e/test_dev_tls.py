"""``guificloud dev --tls``: a local CA made once under the data folder, NATS and every service
on TLS, and the seed, the simulated boxes and logins trusting that CA."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from guificloud.tls import client_context
from tests.e2e.dev_helpers import Dev, kill_all
from tests.e2e.slices_helpers import wait_for
from tests.e2e.system import SERVICES

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]


class TlsDev(Dev):
    @property
    def ca(self) -> Path:
        return self.data_dir / "tls" / "ca.pem"

    def url(self, name: str) -> str:
        return f"https://127.0.0.1:{self.ports[name]}"

    def ready(self) -> bool:
        if not self.ca.exists():
            return False
        trust = client_context(self.ca)
        for name in SERVICES:
            try:
                answer = httpx.get(f"{self.url(name)}/readyz", timeout=1.0, verify=trust)
            except httpx.HTTPError:
                return False
            if answer.status_code != 200:
                return False
        return True


@pytest.fixture
def dev(tmp_path: Path) -> Iterator[TlsDev]:
    running = TlsDev(tmp_path / "data")
    running.start(seed=True, flags=["--tls", "--boxes", "1", "--heartbeat-interval", "0.5"])
    seen: list[psutil.Process] = []
    try:
        running.wait_ready(90)
        seen = running.descendants()
        yield running
    finally:
        if running.process is not None and running.process.poll() is None:
            seen += running.descendants()
        running.stop()
        kill_all(seen)


def test_dev_tls_runs_nats_and_every_service_on_tls(dev: TlsDev) -> None:
    tls = dev.data_dir / "tls"
    for key in (tls / "ca-key.pem", tls / "server-key.pem"):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600, key
    trust = client_context(dev.ca)

    for name in SERVICES:
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            httpx.get(f"{dev.url(name)}/readyz", timeout=5)  # the system's CAs only
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"http://127.0.0.1:{dev.ports[name]}/readyz", timeout=5)
    with socket.create_connection(("127.0.0.1", dev.ports["nats"]), timeout=5) as plain:
        assert b'"tls_required":true' in plain.recv(4096)

    wait_for(lambda: "first operator created" in dev.tail(400), 60, dev.tail)
    assert f"GUIFICLOUD_TLS_CA={dev.ca}" in " ".join(dev.tail(400).split())
    operator = json.loads((dev.data_dir / "identity" / "operator.json").read_text())
    assert operator["identity_url"] == dev.url("identity")
    login = httpx.post(
        f"{dev.url('identity')}/api/v1/auth/login",
        json={"login": operator["login"], "password": operator["password"]},
        verify=trust,
    )
    assert login.status_code == 200, login.text
    bearer = {"Authorization": f"Bearer {login.json()['access_token']}"}
    for name in ("registry", "provisioner", "monitor", "imagestore"):
        # each service verifies the token with keys it fetched from identity over https
        answer = httpx.get(f"{dev.url(name)}/api/v1/deadletters", headers=bearer, verify=trust)
        assert answer.status_code == 200, (name, answer.text)

    _the_cli_trusts_the_ca_it_is_given(dev, operator)

    def box_ready() -> bool:
        boxes = httpx.get(f"{dev.url('provisioner')}/api/v1/boxes", verify=trust, timeout=5)
        return any(box["state"] == "ready" for box in boxes.json())

    # the seed published the distro over https; the box enrolled, fetched its desired state
    # and the image over https, and reported over NATS with TLS
    wait_for(box_ready, 90, dev.tail)


def _the_cli_trusts_the_ca_it_is_given(dev: TlsDev, operator: dict[str, str]) -> None:
    """``guificloud login`` and a command with the stored login (token renewals included)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUIFICLOUD_")}
    env.update({f"GUIFICLOUD_{name.upper()}_URL": dev.url(name) for name in SERVICES})
    env["GUIFICLOUD_CREDENTIALS"] = str(dev.data_dir.parent / "credentials.json")
    guificloud = [str(Path(sys.executable).with_name("guificloud"))]

    def run(*argv: str, ca: bool = True) -> subprocess.CompletedProcess[str]:
        given = {**env, "GUIFICLOUD_TLS_CA": str(dev.ca)} if ca else env
        return subprocess.run(
            [*guificloud, *argv],
            input=operator["password"],
            capture_output=True,
            text=True,
            timeout=60,
            env=given,
        )

    refused = run("login", "--login", operator["login"], ca=False)
    assert refused.returncode != 0
    assert "CERTIFICATE_VERIFY_FAILED" in refused.stdout + refused.stderr
    logged_in = run("login", "--login", operator["login"])
    assert logged_in.returncode == 0, logged_in.stdout + logged_in.stderr
    zone = run("zone", "add", "TlsZone", "--output", "json")
    assert zone.returncode == 0, zone.stdout + zone.stderr
    assert json.loads(zone.stdout)[0]["name"] == "TlsZone"
