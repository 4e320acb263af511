"""Secrets on a command line (the admin token, a box's configuration) come from the
environment or from a file, never from an argument: ``ps`` shows every process's arguments
to every user of the machine.

A file holding a secret must be its owner's alone, as ssh asks of its keys: one that its
group or others may read is refused, saying how to fix it; :func:`write_private` makes such
a file.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import typer

ADMIN_TOKEN_ENV = "GUIFICLOUD_ADMIN_TOKEN"

AdminTokenFile = typer.Option(
    None,
    "--admin-token-file",
    envvar="GUIFICLOUD_ADMIN_TOKEN_FILE",
    help=(
        f"File holding the operator's admin token, readable by its owner only "
        f"(default: ${ADMIN_TOKEN_ENV}; `guificloud dev` keeps one in .guificloud/admin-token)."
    ),
)


class SecretFileError(ValueError):
    """A secret file that cannot be used; the message says why and what to do."""


def read_secret(path: Path) -> str:
    """The secret ``path`` holds (stripped), refused if its group or others can read it."""
    try:
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise SecretFileError(
                f"{path} is open to others (mode {stat.S_IMODE(mode):04o}); "
                f"it holds a secret: chmod 600 {path}"
            )
        secret = path.read_text().strip()
    except OSError as exc:
        raise SecretFileError(f"cannot read {path}: {exc.strerror}") from exc
    if not secret:
        raise SecretFileError(f"{path} is empty")
    return secret


def admin_token(file: Path | None) -> str | None:
    """The admin token: from ``file`` if given, else ``$GUIFICLOUD_ADMIN_TOKEN``, else none."""
    if file is None:
        return os.environ.get(ADMIN_TOKEN_ENV) or None
    try:
        return read_secret(file)
    except SecretFileError as exc:
        raise typer.BadParameter(str(exc), param_hint="--admin-token-file") from exc


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path``, readable by its owner only from the first byte (its folder
    is made, owner-only, if missing)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        os.fchmod(f.fileno(), 0o600)  # an existing file keeps its mode through O_CREAT
        f.write(text)
