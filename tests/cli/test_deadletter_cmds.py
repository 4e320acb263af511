"""``guificloud deadletters``: where the credentials and the URL come from, refusals made
before any request, and the commands against a real registry process."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import nats
import pytest
from typer.testing import CliRunner

from guificloud.bus.deadletters import CONSUMER, ORIGINAL_STREAM, ORIGINAL_SUBJECT, REASON
from guificloud.streams import BOXES, DEADLETTER
from guificloud.testing.authority import ADMIN_TOKEN as TOKEN
from guificloud.testing.processes import ServiceProcess
from guificloud_cli.deadletter_cmds import Service, deadletter_app, service_url

UNREACHABLE = ["--service", "registry", "--url", "http://127.0.0.1:9"]


@pytest.mark.unit
def test_the_token_comes_from_the_environment_or_an_owner_only_file_never_argv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GUIFICLOUD_ADMIN_TOKEN", raising=False)
    monkeypatch.delenv("GUIFICLOUD_ADMIN_TOKEN_FILE", raising=False)
    runner = CliRunner()
    missing = runner.invoke(deadletter_app, ["list", *UNREACHABLE])
    assert missing.exit_code == 1 and "operators only: log in" in missing.output
    shared = tmp_path / "token"
    shared.write_text(TOKEN)
    shared.chmod(0o644)
    open_file = runner.invoke(
        deadletter_app, ["list", *UNREACHABLE, "--admin-token-file", str(shared)]
    )
    assert open_file.exit_code == 2 and "chmod 600" in open_file.output
    shared.chmod(0o600)
    # with a token, the request is sent: the unreachable URL is the failure now
    with_file = runner.invoke(
        deadletter_app, ["list", *UNREACHABLE, "--admin-token-file", str(shared)]
    )
    assert with_file.exit_code == 1 and "registry unreachable" in with_file.output
    argv = runner.invoke(deadletter_app, ["list", *UNREACHABLE, "--admin-token", TOKEN])
    assert argv.exit_code == 2 and "No such option" in argv.output


@pytest.mark.unit
def test_the_url_given_else_the_services_own_variable_else_local(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("GUIFICLOUD_MONITOR_URL", raising=False)
    assert service_url(Service.monitor, None) == "http://127.0.0.1:8103"
    monkeypatch.setenv("GUIFICLOUD_MONITOR_URL", "http://monitor:80")
    assert service_url(Service.monitor, None) == "http://monitor:80"
    assert service_url(Service.monitor, "http://other") == "http://other"


@pytest.mark.unit
def test_replay_takes_a_sequence_or_all_before_anything_is_sent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GUIFICLOUD_ADMIN_TOKEN", TOKEN)
    runner = CliRunner()
    neither = runner.invoke(deadletter_app, ["replay", *UNREACHABLE])
    both = runner.invoke(deadletter_app, ["replay", "3", "--all", *UNREACHABLE])
    seq_and_filter = runner.invoke(deadletter_app, ["replay", "3", "--durable", "d", *UNREACHABLE])
    assert neither.exit_code == both.exit_code == seq_and_filter.exit_code == 2
    unreachable = runner.invoke(deadletter_app, ["replay", "--all", *UNREACHABLE])
    assert unreachable.exit_code == 1 and "registry unreachable" in unreachable.output
    no_service = runner.invoke(deadletter_app, ["list"])
    assert no_service.exit_code == 2 and "--service" in no_service.output


@pytest.fixture
def registry(database_url: str, nats_url: str, tmp_path: Path) -> Iterator[ServiceProcess]:
    proc = ServiceProcess(
        "guificloud_registry",
        log_dir=tmp_path,
        env={
            "GUIFICLOUD_DATABASE_URL": database_url,
            "GUIFICLOUD_NATS_URL": nats_url,
            "GUIFICLOUD_ADMIN_TOKEN": TOKEN,
        },
    )
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.mark.integration
async def test_list_show_replay_and_discard_against_a_running_service(
    registry: ServiceProcess, nats_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    await js.add_stream(name=BOXES.name, subjects=list(BOXES.subjects))
    seqs = []
    for n in (1, 2):
        headers = {
            REASON: f"refused number {n}",
            ORIGINAL_SUBJECT: f"box.b{n}.sync",
            ORIGINAL_STREAM: BOXES.name,
            CONSUMER: "t-cli",
        }
        ack = await js.publish("deadletter.registry.t-cli", b'{"n": %d}' % n, headers=headers)
        seqs.append(ack.seq)
    monkeypatch.delenv("GUIFICLOUD_ADMIN_TOKEN", raising=False)
    token_file = tmp_path / "admin-token"
    token_file.write_text(TOKEN)
    token_file.chmod(0o600)
    where = ["--service", "registry", "--url", registry.url, "--admin-token-file", str(token_file)]
    runner = CliRunner()

    def cli(*args: str) -> str:
        result = runner.invoke(deadletter_app, [*args, *where], env={"COLUMNS": "200"})
        assert result.exit_code == 0, result.output
        return result.output

    try:
        listed = await asyncio.to_thread(cli, "list")
        assert "refused number 1" in listed and "refused number 2" in listed
        shown = await asyncio.to_thread(cli, "show", str(seqs[0]))
        assert "box.b1.sync" in shown and '"n": 1' in shown
        replayed = await asyncio.to_thread(cli, "replay", str(seqs[0]))
        assert f"replayed 1: {seqs[0]}" in replayed
        assert (await js.stream_info(BOXES.name)).state.messages == 1
        assert (await js.get_msg(BOXES.name, 1)).subject == "box.b1.sync"
        await asyncio.to_thread(cli, "discard", str(seqs[1]))
        assert (await js.stream_info(DEADLETTER.name)).state.messages == 0
        refused = await asyncio.to_thread(
            runner.invoke,
            deadletter_app,
            ["list", "--service", "registry", "--url", registry.url],
            env={"GUIFICLOUD_ADMIN_TOKEN": "guess"},
        )
        assert refused.exit_code == 1 and "401" in refused.output
    finally:
        await nc.close()
