"""Seeding a running image store with the Guifi-Community-Distro, as its HTTP client.

Idempotent: a version already published for that arch is left as it is. The image is
streamed from a file with its digest, so the store verifies what it received. It is signed
with a development publisher key kept in the data folder, which the seed has the store
trust for the distro's name: the store requires signatures. Both the key and the image go
in with the admin token, as an operator's: the distro is an image of the deployment, of no
group.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from guificloud.key_names import DISTRO_NAME
from guificloud.signing import generate_key, key_id, public_of, sign
from guificloud.tls import env_ca, verify
from guificloud_imagestore.distro import build_distro_rootfs

CHUNK = 1024 * 1024
DEV_PUBLISHER = "guificloud-dev"


class SeedError(Exception):
    pass


@dataclass(frozen=True)
class Seeded:
    created: bool
    image: dict[str, Any]


def file_digest(path: Path) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            sha.update(chunk)
    return f"sha256:{sha.hexdigest()}"


def dev_key(path: Path) -> str:
    """The development publisher's private key (base64), created on first use (mode 0600)."""
    if path.is_file():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    private, _ = generate_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(private + "\n")
    return private


def trust(client: httpx.Client, private: str) -> str:
    """Have the store trust the key for the distro's name; its id."""
    public = public_of(private)
    response = client.post(
        "/api/v1/keys",
        json={"publisher": DEV_PUBLISHER, "public_key": public, "names": [DISTRO_NAME]},
    )
    if response.status_code not in (201, 409):  # 409: trusted already
        raise SeedError(
            f"the store did not trust the seed key ({response.status_code}): {response.text}"
        )
    return key_id(public)


def wait_ready(client: httpx.Client, wait_s: float) -> None:
    deadline = time.monotonic() + wait_s
    last = "no answer"
    while True:
        try:
            response = client.get("/readyz")
            if response.status_code == 200:
                return
            last = response.text
        except httpx.HTTPError as exc:
            last = str(exc)
        if time.monotonic() >= deadline:
            raise SeedError(f"image store at {client.base_url} not ready after {wait_s}s: {last}")
        time.sleep(0.2)


def find(client: httpx.Client, version: str, arch: str) -> dict[str, Any] | None:
    response = client.get(
        "/api/v1/images", params={"name": DISTRO_NAME, "version": version, "arch": arch}
    )
    response.raise_for_status()
    images: list[dict[str, Any]] = response.json()
    return images[0] if images else None


def seed_distro(
    url: str,
    *,
    version: str,
    arch: str,
    key_file: Path,
    admin_token: str,
    channel: str = "stable",
    wait_s: float = 30.0,
) -> Seeded:
    with httpx.Client(
        base_url=url,
        timeout=httpx.Timeout(30.0, connect=5.0),
        headers={"Authorization": f"Bearer {admin_token}"},
        verify=verify(env_ca()),
    ) as client:
        wait_ready(client, wait_s)
        if (existing := find(client, version, arch)) is not None:
            return Seeded(created=False, image=existing)
        private = dev_key(key_file)
        kid = trust(client, private)
        with tempfile.TemporaryDirectory() as tmp:
            path = build_distro_rootfs(Path(tmp), version)
            digest = file_digest(path)
            params = {
                "name": DISTRO_NAME,
                "version": version,
                "arch": arch,
                "format": "tar.gz",
                "channel": channel,
                "digest": digest,
                "signature": sign(private, DISTRO_NAME, version, arch, digest),
                "key_id": kid,
            }
            with open(path, "rb") as body:
                response = client.post(
                    "/api/v1/images",
                    params=params,
                    content=body,
                    headers={"Content-Type": "application/octet-stream"},
                )
        if response.status_code == 409 and (existing := find(client, version, arch)):
            return Seeded(created=False, image=existing)
        if response.status_code != 201:
            raise SeedError(f"upload refused ({response.status_code}): {response.text}")
        return Seeded(created=True, image=response.json())
