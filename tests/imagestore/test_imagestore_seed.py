"""``python -m guificloud_imagestore seed-distro`` against the running image store."""

from __future__ import annotations

import io
import os
import stat
import subprocess
import sys
import tarfile
from pathlib import Path
from uuid import uuid4

import httpx
import pytest

from guificloud.signing import key_id, public_of
from guificloud.testing.processes import ServiceProcess
from tests.imagestore.helpers import ADMIN_TOKEN

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def imagestore_env() -> dict[str, str]:
    """The default store: it takes signed images only, so the seed signs its image."""
    return {}


def seed(url: str, version: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "guificloud_imagestore",
            "seed-distro",
            "--url",
            url,
            "--version",
            version,
            "--arch",
            "amd64",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={
            **os.environ,
            "GUIFICLOUD_DATA_DIR": str(data_dir),
            "GUIFICLOUD_ADMIN_TOKEN": ADMIN_TOKEN,
        },
    )


def test_seed_distro_uploads_once(imagestore: ServiceProcess, tmp_path: Path) -> None:
    version = f"1.0.0-{uuid4().hex[:8]}"

    first = seed(imagestore.url, version, tmp_path)
    assert first.returncode == 0, first.stderr
    assert "published" in first.stdout and "already" not in first.stdout

    key_file = tmp_path / "imagestore" / "dev-publisher.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    second = seed(imagestore.url, f"{version}.1", tmp_path)
    assert second.returncode == 0, second.stderr  # the same key, trusted already
    second = seed(imagestore.url, version, tmp_path)
    assert second.returncode == 0, second.stderr
    assert "already published" in second.stdout

    listed = httpx.get(
        f"{imagestore.url}/api/v1/images",
        params={"name": "guifi-community-distro", "version": version},
    ).json()
    assert len(listed) == 1
    image = listed[0]
    assert (image["arch"], image["format"], image["channel"]) == ("amd64", "tar.gz", "stable")
    key = key_id(public_of(key_file.read_text().strip()))
    assert image["key_id"] == key
    trusted = {k["key_id"]: k for k in httpx.get(f"{imagestore.url}/api/v1/keys").json()}
    assert trusted[key]["names"] == ["guifi-community-distro"]

    blob = httpx.get(image["download_url"]).content
    with tarfile.open(fileobj=io.BytesIO(blob), mode="r:gz") as tar:
        os_release = tar.extractfile("etc/os-release")
        assert os_release is not None
        text = os_release.read().decode()
    assert 'NAME="Guifi-Community-Distro"' in text and f"VERSION_ID={version}" in text


def test_seed_distro_fails_clearly_without_a_store() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "guificloud_imagestore",
            "seed-distro",
            "--url",
            "http://127.0.0.1:9",
            "--wait",
            "0",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "not ready" in result.stderr
