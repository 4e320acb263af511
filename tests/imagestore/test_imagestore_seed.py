"""``python -m guificloud_imagestore seed-distro`` against the running image store."""

from __future__ import annotations

import io
import subprocess
import sys
import tarfile
from uuid import uuid4

import httpx
import pytest

from guificloud.testing.processes import ServiceProcess

pytestmark = pytest.mark.integration


def seed(url: str, version: str) -> subprocess.CompletedProcess[str]:
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
    )


def test_seed_distro_uploads_once(imagestore: ServiceProcess) -> None:
    version = f"1.0.0-{uuid4().hex[:8]}"

    first = seed(imagestore.url, version)
    assert first.returncode == 0, first.stderr
    assert "published" in first.stdout and "already" not in first.stdout

    second = seed(imagestore.url, version)
    assert second.returncode == 0, second.stderr
    assert "already published" in second.stdout

    listed = httpx.get(
        f"{imagestore.url}/api/v1/images",
        params={"name": "guifi-community-distro", "version": version},
    ).json()
    assert len(listed) == 1
    image = listed[0]
    assert (image["arch"], image["format"], image["channel"]) == ("amd64", "tar.gz", "stable")

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
