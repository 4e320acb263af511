"""Every command sends the stored login; the admin token where it was taken before logins
(``--admin-token-file``, or ``GUIFICLOUD_ADMIN_TOKEN`` without a login); and ``--group``
names the group a node, slice or image belongs to."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from typer.testing import CliRunner

from guificloud.credentials import StoredLogin, save
from guificloud_cli.main import app

pytestmark = pytest.mark.unit

ACCESS = "stored-access-token"
ADMIN = "a-file-admin-token-" + "x" * 40


@dataclass
class Seen:
    url: str = ""
    requests: list[tuple[str, str, str | None, Any]] = field(default_factory=list)
    """(method, path, Authorization, JSON body) of each request."""


@pytest.fixture
def service() -> Iterator[Seen]:
    """Any service: answers 200 ``[]`` to a GET, 201 with the body sent (and an id) to a
    POST that creates, and remembers who asked what."""
    seen = Seen()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            seen.requests.append(("GET", self.path, self.headers.get("Authorization"), None))
            self._answer(200, [])

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            sent = json.loads(self.rfile.read(length) or b"null")
            seen.requests.append(("POST", self.path, self.headers.get("Authorization"), sent))
            if self.path.endswith("/assign"):  # boxes moved to a distro: none here
                self._answer(200, [])
            else:
                self._answer(201, {**(sent or {}), "id": str(uuid4())})

        def log_message(self, *_args: Any) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    seen.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield seen
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def logged_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "credentials.json"
    monkeypatch.setenv("GUIFICLOUD_CREDENTIALS", str(path))
    save(StoredLogin("http://127.0.0.1:9", "anna", "refresh", ACCESS, time.time() + 600))
    return path


def _cli(*args: str) -> str:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


def _commands(url: str) -> list[list[str]]:
    return [
        ["zone", "list", "--registry-url", url],
        ["node", "list", "--registry-url", url],
        ["device", "list", "--registry-url", url],
        ["zone", "add", "Osona", "--output", "json", "--registry-url", url],
        ["slice", "ls", "--provisioner-url", url],
        ["distro", "assign", "--all", "--provisioner-url", url],
        ["image", "ls", "--url", url],
        ["image", "keys", "ls", "--url", url],
        ["deadletters", "list", "--service", "monitor", "--url", url],
    ]


def test_every_command_sends_the_stored_login_before_the_admin_token_of_the_environment(
    service: Seen, logged_in: Path
) -> None:
    for command in _commands(service.url):
        service.requests.clear()
        _cli(*command)
        sent = {auth for _, _, auth, _ in service.requests}
        assert sent == {f"Bearer {ACCESS}"}, (command, service.requests)


def test_the_admin_token_from_its_file_or_when_there_is_no_login(
    service: Seen, logged_in: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token_file = tmp_path / "admin-token"
    token_file.write_text(ADMIN)
    token_file.chmod(0o600)
    _cli("slice", "ls", "--provisioner-url", service.url, "--admin-token-file", str(token_file))
    assert service.requests[-1][2] == f"Bearer {ADMIN}"
    logged_in.unlink()
    monkeypatch.setenv("GUIFICLOUD_ADMIN_TOKEN", ADMIN)
    _cli("deadletters", "list", "--service", "monitor", "--url", service.url)
    assert service.requests[-1][2] == f"Bearer {ADMIN}"
    monkeypatch.delenv("GUIFICLOUD_ADMIN_TOKEN")
    _cli("zone", "list", "--registry-url", service.url)
    assert service.requests[-1][2] is None, "a public read needs no login"


def test_group_names_the_owner_of_a_node_and_a_slice(service: Seen, logged_in: Path) -> None:
    group = str(uuid4())
    zone = str(uuid4())
    _cli(
        *("node", "add", "n1", "--zone", zone, "--lat", "41.9", "--lon", "2.2"),
        *("--group", group, "--output", "json", "--registry-url", service.url),
    )
    node = [body for method, _, _, body in service.requests if method == "POST"][-1]
    assert (node["owner_group_id"], node["zone_id"]) == (group, zone)
    _cli(
        *("slice", "create", "lab", "--image", "distro", "--box", str(uuid4())),
        *("--group", group, "--output", "json", "--provisioner-url", service.url),
    )
    made = [body for method, _, _, body in service.requests if method == "POST"][-1]
    assert made["group_id"] == group and "owner_group" not in made
    missing = CliRunner().invoke(
        app, ["slice", "create", "lab", "--image", "x", "--count", "1", "--provisioner-url", "u"]
    )
    assert missing.exit_code == 2 and "--group" in missing.output


def test_group_names_the_group_an_image_is_published_for(
    service: Seen, logged_in: Path, tmp_path: Path
) -> None:
    image = tmp_path / "rootfs.tar"
    image.write_bytes(b"\0" * 1024)
    group = str(uuid4())
    CliRunner().invoke(  # the fake store takes no bytes: what matters is the session opened
        app,
        ["image", "push", str(image), "--name", "lab", "--version", "1.0", "--group", group]
        + ["--url", service.url],
    )
    opened = [body for method, path, _, body in service.requests if path == "/api/v1/uploads"]
    assert opened and opened[0]["group_id"] == group
    assert {auth for _, _, auth, _ in service.requests} == {f"Bearer {ACCESS}"}


def test_a_login_that_cannot_be_renewed_says_so(
    service: Seen, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "credentials.json"
    monkeypatch.setenv("GUIFICLOUD_CREDENTIALS", str(path))
    save(StoredLogin("http://127.0.0.1:9", "anna", "refresh", ACCESS, 0.0))  # expired
    for command in (
        ["zone", "list", "--registry-url", service.url],
        ["slice", "ls", "--provisioner-url", service.url],
        ["image", "ls", "--url", service.url],
    ):
        result = CliRunner().invoke(app, command, env={"COLUMNS": "200"})
        assert result.exit_code == 1, result.output
        assert "cannot renew the login: identity service at http://127.0.0.1:9" in result.output
    assert not service.requests, "nothing is sent with an expired token"
