"""Outside development and test a box talks to the provisioner and the bus only over TLS:
``http://`` and ``nats://`` are refused at start, with the URL and what to use instead."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from guificloud.boxes import BoxConfig
from guificloud_agent.settings import AgentSettings, PlainUrlRefused

pytestmark = pytest.mark.unit

AGENT = [sys.executable, "-m", "guificloud_agent"]


def _config(provisioner_url: str, nats_url: str) -> BoxConfig:
    return BoxConfig(
        box_id=uuid.uuid4(),
        token="t" * 20,
        provisioner_url=provisioner_url,
        nats_url=nats_url,
    )


@pytest.mark.parametrize(
    ("provisioner_url", "nats_url", "refused"),
    [
        ("http://provisioner.example:8102", "tls://nats.example:4222", "provisioner_url"),
        ("https://provisioner.example", "nats://nats.example:4222", "nats_url"),
        ("HTTP://provisioner.example", "tls://nats.example:4222", "provisioner_url"),
        ("https://provisioner.example", "nats://10.0.0.1:4222", "nats_url"),
        ("http://127.0.0.2.example", "tls://nats.example:4222", "provisioner_url"),
    ],
)
def test_production_refuses_urls_in_clear(
    provisioner_url: str, nats_url: str, refused: str
) -> None:
    settings = AgentSettings(environment="production")
    with pytest.raises(PlainUrlRefused, match=refused):
        settings.refuse_plain_config(_config(provisioner_url, nats_url))


def test_production_accepts_tls_and_loopback_and_development_accepts_clear() -> None:
    AgentSettings(environment="production").refuse_plain_config(
        _config("https://provisioner.example", "tls://nats.example:4222")
    )
    # a loopback address crosses no link: the system on the same machine, a tunnel's end
    AgentSettings(environment="production").refuse_plain_config(
        _config("http://127.0.0.1:8102", "nats://localhost:4222")
    )
    AgentSettings(environment="production").refuse_plain(url="http://[::1]:8102")
    for environment in ("development", "test"):
        AgentSettings(environment=environment).refuse_plain_config(
            _config("http://provisioner.example", "nats://nats.example:4222")
        )


def test_the_environment_decides_and_production_is_the_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("GUIFICLOUD_ENVIRONMENT", raising=False)
    assert AgentSettings().environment == "production"
    monkeypatch.setenv("GUIFICLOUD_ENVIRONMENT", "development")
    assert AgentSettings().environment == "development"


def _production() -> dict[str, str]:
    return {**os.environ, "GUIFICLOUD_ENVIRONMENT": "production"}


def test_run_refuses_a_config_in_clear(tmp_path: Path) -> None:
    path = tmp_path / "box.json"
    path.write_text(_config("https://p.example", "nats://nats.example:9").model_dump_json())
    result = subprocess.run(
        [*AGENT, "run", "--config", str(path), f"--cache-dir={tmp_path / 'cache'}"],
        capture_output=True,
        text=True,
        timeout=60,
        env=_production(),
    )
    assert result.returncode == 2, result.stderr
    assert "nats_url nats://nats.example:9 is in clear" in " ".join(result.stderr.split())


def test_sim_and_config_refuse_urls_in_clear(tmp_path: Path) -> None:
    sim = subprocess.run(
        [
            *AGENT,
            "sim",
            "--boxes=1",
            "--registry-url=http://registry.example:9",
            "--provisioner-url=https://provisioner.example:9",
            f"--cache-dir={tmp_path}",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={**_production(), "GUIFICLOUD_ADMIN_TOKEN": "x" * 43},
    )
    assert sim.returncode == 2 and "registry_url" in sim.stderr, sim.stderr
    config = subprocess.run(
        [
            *AGENT,
            "config",
            str(uuid.uuid4()),
            "--provisioner-url=http://provisioner.example:9",
            f"--output={tmp_path / 'box.json'}",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=_production(),
    )
    assert config.returncode == 2 and "provisioner_url" in config.stderr, config.stderr
    assert not (tmp_path / "box.json").exists()
