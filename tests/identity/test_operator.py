"""The first operator: made once, its credentials in a file only its owner reads, and the
command that does it for other deployments never takes the password as an argument."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from guificloud.testing.inprocess import service_in_process
from guificloud_identity.operator import credentials_path, ensure_first_operator
from guificloud_identity.service import DEFINITION
from tests.identity.support import settings_for

pytestmark = pytest.mark.integration


async def test_ensure_first_operator_is_idempotent(
    database_url: str, nats_url: str, tmp_path: Path
) -> None:
    settings = settings_for(database_url, nats_url, tmp_path)
    assert await ensure_first_operator(settings) is True
    path = credentials_path(settings)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    credentials = json.loads(path.read_text())
    assert await ensure_first_operator(settings) is False
    assert json.loads(path.read_text()) == credentials  # left as it was

    async with service_in_process(DEFINITION, settings) as svc:
        response = await svc.client.post(
            "/api/v1/auth/login",
            json={"login": credentials["login"], "password": credentials["password"]},
        )
        assert response.status_code == 200, response.text
        who = await svc.client.get(
            "/api/v1/auth/whoami",
            headers={"Authorization": f"Bearer {response.json()['access_token']}"},
        )
        assert who.json()["is_operator"] is True


def test_bootstrap_command_reads_the_password_from_a_file(
    database_url: str, tmp_path: Path
) -> None:
    secret = tmp_path / "pw"
    secret.write_text("from-a-file-password\n")
    env = {**os.environ, "GUIFICLOUD_DATABASE_URL": database_url}
    command = [sys.executable, "-m", "guificloud_identity", "bootstrap-operator"]
    made = subprocess.run(
        [*command, "--login", "root", "--password-file", str(secret)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert made.returncode == 0, made.stderr
    assert "from-a-file-password" not in made.stdout + made.stderr
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and "exists already" in again.stderr
