"""The command line as an operator runs it: one agent from its config file, or a simulated
fleet; both stop cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from guificloud.boxes import BoxConfig
from guificloud.testing.processes import ServiceProcess
from guificloud_agent.fleet import load_fleet
from tests.agent.agent_helpers import TIMEOUT_S, make_image
from tests.agent.agent_peer import ADMIN_TOKEN, Peer

pytestmark = pytest.mark.integration

AGENT = [sys.executable, "-m", "guificloud_agent"]


@pytest.fixture
def registry(nats_url: str, database_url: str, tmp_path: Path) -> Iterator[ServiceProcess]:
    process = ServiceProcess(
        "guificloud_registry",
        log_dir=tmp_path,
        env={
            "GUIFICLOUD_NATS_URL": nats_url,
            "GUIFICLOUD_DATABASE_URL": database_url,
            "GUIFICLOUD_ENVIRONMENT": "test",
            "GUIFICLOUD_ADMIN_TOKEN": ADMIN_TOKEN,
        },
    )
    process.start()
    try:
        yield process
    finally:
        process.stop()


async def _terminate(process: asyncio.subprocess.Process) -> int:
    """SIGTERM, as an operator or a supervisor would; a process that ignores it fails the test."""
    if process.returncode is not None:
        return process.returncode
    process.send_signal(signal.SIGTERM)
    try:
        return await asyncio.wait_for(process.wait(), TIMEOUT_S)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise AssertionError("the agent did not stop on SIGTERM") from None


async def test_run_from_a_config_file_and_stop_on_sigterm(
    peer: Peer, reports, tmp_path: Path
) -> None:
    config = peer.add_box()
    spec = peer.put_blob(make_image(16 * 1024))
    peer.want(config.box_id, spec)
    (tmp_path / "box.json").write_text(config.model_dump_json())
    watch = await reports(config)

    log_file = tmp_path / "agent.log"
    with log_file.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            *AGENT,
            "run",
            "--config",
            str(tmp_path / "box.json"),
            "--cache-dir",
            str(tmp_path / "cache"),
            "--log-format",
            "json",
            stdout=out,
        )
    try:
        await watch.state("running", distro_digest=spec.digest)
    finally:
        code = await _terminate(process)
    assert code == 0
    logs = [json.loads(line) for line in log_file.read_text().splitlines()]
    assert {"agent.started", "agent.stopped"} <= {line["event"] for line in logs}
    assert all(line["service"] == "agent" for line in logs)


def test_a_bad_config_is_refused_naming_the_field(tmp_path: Path) -> None:
    path = tmp_path / "box.json"
    path.write_text(
        json.dumps(
            {
                "box_id": "not-a-uuid",
                "token": "x" * 20,
                "provisioner_url": "http://127.0.0.1:9",
                "nats_url": "nats://x",
            }
        )
    )
    result = subprocess.run(
        [*AGENT, "run", "--config", str(path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "box_id" in result.stderr


async def test_sim_enrolls_and_runs_a_fleet(
    nats_url: str, registry: ServiceProcess, reports, tmp_path: Path
) -> None:
    peer = Peer(nats_url, registry_url=registry.url)
    peer.default_distro = peer.put_blob(make_image(16 * 1024))
    peer.start()
    cache = tmp_path / "boxes"
    process = await asyncio.create_subprocess_exec(
        *AGENT,
        "sim",
        "--boxes",
        "2",
        "--registry-url",
        registry.url,
        "--provisioner-url",
        peer.url,
        "--cache-dir",
        str(cache),
        stderr=asyncio.subprocess.DEVNULL,
        env={**os.environ, "GUIFICLOUD_ADMIN_TOKEN": ADMIN_TOKEN},
    )
    try:
        configs: list[BoxConfig] = []
        for _ in range(int(TIMEOUT_S / 0.1)):
            configs = load_fleet(cache)
            if configs:
                break
            await asyncio.sleep(0.1)
        assert len(configs) == 2
        for config in configs:
            watch = await reports(config)
            await watch.state("running", distro_digest=peer.default_distro.digest)
    finally:
        code = await _terminate(process)
        peer.stop()
    assert code == 0


async def test_sim_adopts_each_box_the_provisioner_configures_as_it_comes(
    peer: Peer, reports, tmp_path: Path
) -> None:
    peer.default_distro = peer.put_blob(make_image(16 * 1024))
    first = peer.add_box()
    peer.want(first.box_id, peer.default_distro)
    process = await asyncio.create_subprocess_exec(
        *AGENT,
        "sim",
        "--adopt",
        "--boxes",
        "2",
        "--registry-url",
        "http://127.0.0.1:9",  # adopting enrolls nothing
        "--provisioner-url",
        peer.url,
        "--cache-dir",
        str(tmp_path / "boxes"),
        stderr=asyncio.subprocess.DEVNULL,
        env={**os.environ, "GUIFICLOUD_ADMIN_TOKEN": ADMIN_TOKEN},
    )
    try:
        watch = await reports(first)
        await watch.state("running", distro_digest=peer.default_distro.digest)
        later = peer.add_box()  # configured while the fleet runs
        peer.want(later.box_id, peer.default_distro)
        watch = await reports(later)
        await watch.state("running", distro_digest=peer.default_distro.digest)
    finally:
        code = await _terminate(process)
    assert code == 0


def test_secrets_are_never_arguments(peer: Peer, tmp_path: Path) -> None:
    """``ps`` shows a process's arguments to every user: the admin token and a box's token
    are taken from the environment or from files only their owner can read."""
    for argv in (
        [
            "sim",
            "--boxes",
            "1",
            "--registry-url",
            "u",
            "--provisioner-url",
            "u",
            "--admin-token",
            "t",
        ],
        ["run", "--config", "box.json", "--token", "t"],
        ["config", "b", "--admin-token", "t"],
    ):
        refused = subprocess.run([*AGENT, *argv], capture_output=True, text=True, timeout=60)
        assert refused.returncode == 2 and "No such option" in refused.stderr, argv
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUIFICLOUD_ADMIN_TOKEN")}
    missing = subprocess.run(
        [*AGENT, "config", "b"], capture_output=True, text=True, timeout=60, env=env
    )
    assert missing.returncode == 2 and "GUIFICLOUD_ADMIN_TOKEN" in missing.stderr

    config = peer.add_box()
    token_file = tmp_path / "admin-token"
    token_file.write_text(ADMIN_TOKEN)
    token_file.chmod(0o640)
    saved = tmp_path / ".guificloud" / "box.json"
    fetch = [*AGENT, "config", str(config.box_id), "--provisioner-url", peer.url, "-o", str(saved)]
    argv = [*fetch, "--admin-token-file", str(token_file)]
    too_open = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=env)
    assert too_open.returncode == 2 and "chmod 600" in too_open.stderr
    assert not saved.exists()
    token_file.chmod(0o600)
    fetched = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=env)
    assert fetched.returncode == 0, fetched.stderr
    assert BoxConfig.model_validate_json(saved.read_text()) == config
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert stat.S_IMODE(saved.parent.stat().st_mode) == 0o700
    by_env = subprocess.run(
        fetch,
        capture_output=True,
        text=True,
        timeout=60,
        env={**env, "GUIFICLOUD_ADMIN_TOKEN": "x"},
    )
    assert by_env.returncode == 1 and "401" in by_env.stderr
