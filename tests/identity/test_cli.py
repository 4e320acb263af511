"""``guificloud login``, ``whoami``, ``group …``, ``token …`` and ``logout`` against a real
identity process; the stored login is a 0600 file and its access token is refreshed."""

from __future__ import annotations

import asyncio
import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from guificloud.testing.processes import ServiceProcess
from guificloud_cli.main import app
from guificloud_identity.operator import bootstrap_operator
from tests.identity.support import OPERATOR, OPERATOR_PASSWORD, settings_for

pytestmark = pytest.mark.integration


@pytest.fixture
def identity_proc(database_url: str, nats_url: str, tmp_path: Path) -> Iterator[ServiceProcess]:
    settings = settings_for(database_url, nats_url, tmp_path)
    asyncio.run(bootstrap_operator(settings, login=OPERATOR, password=OPERATOR_PASSWORD))
    proc = ServiceProcess(
        "guificloud_identity",
        log_dir=tmp_path,
        env={"GUIFICLOUD_DATABASE_URL": database_url, "GUIFICLOUD_NATS_URL": nats_url},
    )
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


def test_login_groups_tokens_and_logout(identity_proc: ServiceProcess, tmp_path: Path) -> None:
    stored = tmp_path / "config" / "credentials.json"
    env = {
        "GUIFICLOUD_CREDENTIALS": str(stored),
        "GUIFICLOUD_IDENTITY_URL": identity_proc.url,
        "COLUMNS": "200",
    }

    def cli(*args: str, code: int = 0, given: str | None = None) -> str:
        result = CliRunner().invoke(app, list(args), env=env, input=given)
        assert result.exit_code == code, result.output
        return result.output

    wrong = cli("login", "--login", OPERATOR, given="not-the-password\n", code=1)
    assert "401" in wrong and not stored.exists()
    cli("login", "--login", OPERATOR, given=f"{OPERATOR_PASSWORD}\n")
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert OPERATOR_PASSWORD not in stored.read_text()
    assert "operator (member, operator)" in cli("whoami")

    assert "scouts" in cli("group", "create", "scouts")
    assert "yes" in cli("group", "allow", "scouts", "--slices")
    assert "12" in cli("group", "quota", "scouts", "--slivers", "12")
    shown = cli("group", "show", "scouts")
    assert "group_admin" in shown and "12" in shown

    # An expired access token is refreshed with the stored refresh token, and kept.
    saved = json.loads(stored.read_text())
    stored.write_text(json.dumps({**saved, "access_expires_at": 0}))
    assert "scouts" in cli("whoami")
    assert json.loads(stored.read_text())["access_token"] != saved["access_token"]

    token = cli("token", "create", "ci", "--scope", "slices.write").strip().splitlines()[-1]
    assert token.startswith("gcapi_")
    listed = cli("token", "list")
    assert "slices.write" in listed and token not in listed
    token_id = token.split("_")[1]
    assert "revoked" in cli("token", "revoke", token_id)

    cli("logout")
    assert not stored.exists()
    assert "not logged in" in cli("whoami", code=1)
