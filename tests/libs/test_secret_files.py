"""Secret files: their owner's alone, or refused saying how to fix it."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
import typer

from guificloud.secret_files import SecretFileError, admin_token, read_secret, write_private

pytestmark = pytest.mark.unit


def test_a_secret_file_open_to_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("s3cret\n")
    for mode in (0o644, 0o640, 0o604, 0o620):
        path.chmod(mode)
        with pytest.raises(SecretFileError, match=f"mode {mode:04o}.*chmod 600"):
            read_secret(path)
    path.chmod(0o600)
    assert read_secret(path) == "s3cret"
    path.write_text("  \n")
    with pytest.raises(SecretFileError, match="empty"):
        read_secret(path)
    with pytest.raises(SecretFileError, match="cannot read"):
        read_secret(tmp_path / "missing")


def test_the_admin_token_from_a_file_or_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GUIFICLOUD_ADMIN_TOKEN", raising=False)
    assert admin_token(None) is None
    monkeypatch.setenv("GUIFICLOUD_ADMIN_TOKEN", "from-env")
    assert admin_token(None) == "from-env"
    path = tmp_path / "token"
    write_private(path, "from-file\n")
    assert admin_token(path) == "from-file"
    path.chmod(0o644)
    with pytest.raises(typer.BadParameter, match="chmod 600"):
        admin_token(path)


def test_write_private_is_owner_only_from_the_start(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        path = tmp_path / "new" / "box.json"
        write_private(path, "{}")
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        path.chmod(0o644)
        write_private(path, '{"again": 1}')
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert path.read_text() == '{"again": 1}'
    finally:
        os.umask(old)
