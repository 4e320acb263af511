"""``guificloud image …`` as a process against the running store: push and pull that are
killed half-way and resumed, signed pushes, listings and keys.

Pushing needs a login (the store refuses anonymous publishing): the pushes here run with an
operator's stored login (``GUIFICLOUD_CREDENTIALS``)."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from guificloud.signing import key_id
from guificloud.testing.authority import ADMIN_TOKEN, TestAuthority
from guificloud.testing.processes import ServiceProcess
from tests.imagestore.helpers import ADMIN, OCTETS, UNSIGNED_OK, archive, meta, unique_name

pytestmark = pytest.mark.integration

SIZE = 2_500_000
CHUNK = 256 * 1024


@pytest.fixture(scope="module")
def imagestore_env() -> dict[str, str]:
    return {**UNSIGNED_OK, "GUIFICLOUD_IMAGESTORE_MAX_IMAGE_BYTES": str(10 * SIZE)}


def cli(
    store: ServiceProcess,
    *args: str,
    failpoint: str | None = None,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k != "GUIFICLOUD_ADMIN_TOKEN"}
    env = {**base, "GUIFICLOUD_IMAGESTORE_URL": store.url, "COLUMNS": "200", **(env or {})}
    env.pop("GUIFICLOUD_FAILPOINTS", None)
    if failpoint:
        env["GUIFICLOUD_FAILPOINTS"] = f"{failpoint}=kill"
    return subprocess.run(
        [sys.executable, "-m", "guificloud_cli.image_cmds", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=60,
        check=False,
    )


@pytest.fixture
def login(tmp_path: Path, authority: TestAuthority) -> dict[str, str]:
    """The environment of a CLI run with an operator's stored login (a fresh access token)."""
    path = tmp_path / "credentials.json"
    stored = {
        "identity_url": authority.url,
        "login": "operator",
        "refresh_token": "",
        "access_token": authority.token(authority.operator()),
        "access_expires_at": time.time() + 600,
    }
    path.write_text(json.dumps(stored))
    path.chmod(0o600)
    return {"GUIFICLOUD_CREDENTIALS": str(path)}


def digest_of(path: Path) -> str:
    return f"sha256:{hashlib.sha256(path.read_bytes()).hexdigest()}"


def test_push_and_pull_resume_after_being_killed(
    imagestore: ServiceProcess, tmp_path: Path, login: dict[str, str]
) -> None:
    image = tmp_path / "rootfs.tar.gz"
    image.write_bytes(archive(SIZE))
    name = unique_name()
    push = ("push", str(image), "--name", name, "--version", "1.0.0", "--chunk-size", str(CHUNK))

    killed = cli(imagestore, *push, failpoint="imagestore.push.after_chunk", env=login)
    assert killed.returncode == -9, killed.stderr
    found = httpx.get(f"{imagestore.url}/api/v1/uploads", params={"name": name}, headers=ADMIN)
    assert [s["offset"] for s in found.json()] == [CHUNK]

    resumed = cli(imagestore, *push, env=login)
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming at byte {CHUNK}" in resumed.stderr
    assert f"digest={digest_of(image)}" in resumed.stdout
    listed = httpx.get(f"{imagestore.url}/api/v1/images", params={"name": name}).json()
    assert [(i["digest"], i["size"], i["format"]) for i in listed] == [
        (digest_of(image), SIZE, "tar.gz")
    ]

    out = tmp_path / "pulled.tar.gz"
    pull = ("pull", f"{name}:1.0.0", "-o", str(out))
    broken = cli(imagestore, *pull, failpoint="imagestore.pull.after_chunk")
    assert broken.returncode == -9, broken.stderr
    part = tmp_path / "pulled.tar.gz.part"
    assert 0 < part.stat().st_size < SIZE and not out.exists()

    pulled = cli(imagestore, *pull)
    assert pulled.returncode == 0, pulled.stderr
    assert digest_of(out) == digest_of(image) and not part.exists()

    by_digest = cli(imagestore, "pull", digest_of(image), cwd=tmp_path)
    assert by_digest.returncode == 0, by_digest.stderr
    assert digest_of(tmp_path / digest_of(image).replace(":", "-")) == digest_of(image)


def test_keys_and_a_signed_push(
    imagestore: ServiceProcess, tmp_path: Path, login: dict[str, str]
) -> None:
    key = tmp_path / "publisher.key"
    generated = cli(imagestore, "keys", "generate", str(key))
    assert generated.returncode == 0, generated.stderr
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    public = (tmp_path / "publisher.key.pub").read_text().strip()
    kid = key_id(public)

    token = {"GUIFICLOUD_ADMIN_TOKEN": ADMIN_TOKEN}
    bound = ("--publisher", "guifi.net", "--names", "test-*, other")
    refused = cli(imagestore, "keys", "add", str(key), *bound, env=token)
    assert refused.returncode != 0 and "private key" in refused.stderr
    no_token = cli(imagestore, "keys", "add", public, *bound)
    assert no_token.returncode == 1 and "authentication required" in no_token.stderr
    added = cli(imagestore, "keys", "add", f"{key}.pub", *bound, env=token)
    assert added.returncode == 0, added.stderr
    assert "for test-*, other" in added.stdout
    assert kid in cli(imagestore, "keys", "ls").stdout

    image = tmp_path / "signed.tar.xz"
    image.write_bytes(archive(10_000, "tar.xz"))
    name = unique_name()
    signed = ("push", str(image), "--name", name, "--version", "2.0", "--key", str(key))
    pushed = cli(imagestore, *signed, "--channel", "testing", env=login)
    assert pushed.returncode == 0, pushed.stderr
    assert f"signed with key {kid}" in pushed.stdout

    listed = json.loads(cli(imagestore, "ls", "--name", name, "--output", "json").stdout)
    assert [(i["key_id"], i["format"], i["channel"]) for i in listed] == [
        (kid, "tar.xz", "testing")
    ]
    assert name in cli(imagestore, "ls", "--name", name).stdout

    again = cli(imagestore, *signed, env=login)
    assert again.returncode == 1 and "immutable" in again.stderr
    unbound = cli(
        imagestore,
        *("push", str(image), "--name", f"x{name}", "--version", "1", "--key", str(key)),
        env=login,
    )
    assert unbound.returncode == 1 and "not bound to the image name" in unbound.stderr
    missing = cli(imagestore, "pull", f"{name}:9.9")
    assert missing.returncode == 1 and "no image" in missing.stderr


def test_operator_commands_need_the_admin_token(imagestore: ServiceProcess, tmp_path: Path) -> None:
    name = unique_name()
    pushed = httpx.post(
        f"{imagestore.url}/api/v1/images",
        params=meta(name, "1.0", format="tar"),
        content=archive(5_000, "tar"),
        headers={**OCTETS, **ADMIN},
    )
    assert pushed.status_code == 201, pushed.text
    ref = f"{name}:1.0"

    shared = tmp_path / "shared-token"
    shared.write_text(ADMIN_TOKEN)
    shared.chmod(0o644)
    for command in (("deprecate", ref), ("rm", ref), ("gc",)):
        refused = cli(imagestore, *command)
        assert refused.returncode == 1 and "authentication required" in refused.stderr, command
        wrong = cli(imagestore, *command, env={"GUIFICLOUD_ADMIN_TOKEN": "wrong"})
        assert wrong.returncode == 1 and "HTTP 401" in wrong.stderr, command
        # Never as an argument (``ps`` shows those to every user), nor from an open file.
        in_argv = cli(imagestore, *command, "--admin-token", ADMIN_TOKEN)
        assert in_argv.returncode == 2 and "No such option" in in_argv.stderr, command
        too_open = cli(imagestore, *command, "--admin-token-file", str(shared))
        assert too_open.returncode == 2 and "chmod 600" in too_open.stderr, command
    listed = json.loads(cli(imagestore, "ls", "--name", name, "--output", "json").stdout)
    assert [i["state"] for i in listed] == ["active"]

    private = tmp_path / "admin-token"
    private.write_text(ADMIN_TOKEN + "\n")
    private.chmod(0o600)
    deprecated = cli(imagestore, "deprecate", ref, "--admin-token-file", str(private))
    assert deprecated.returncode == 0 and f"deprecated {name} 1.0" in deprecated.stdout
    image_id = listed[0]["id"]
    by_env = {"GUIFICLOUD_ADMIN_TOKEN": ADMIN_TOKEN}
    deleted = cli(imagestore, "rm", image_id, env=by_env)
    assert deleted.returncode == 0 and f"id={image_id}" in deleted.stdout, deleted.stderr
    by_file_env = {"GUIFICLOUD_ADMIN_TOKEN_FILE": str(private)}
    collected = cli(imagestore, "gc", env=by_file_env)
    assert collected.returncode == 0 and "removed" in collected.stdout, collected.stderr
    assert cli(imagestore, "ls", "--name", name, "--output", "json").stdout.strip() == "[]"
    gone = cli(imagestore, "rm", ref, env=by_env)
    assert gone.returncode == 1 and "no image" in gone.stderr
