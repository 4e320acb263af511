"""A client of the image store for people and scripts: resumable push, resumable pull.

Push hashes (and signs) the file, opens an upload session, or finds the one an earlier
attempt left, and sends chunks from the offset the server reports; a broken connection
costs one chunk at most. Opening and completing a session carry an ``Idempotency-Key``
that their retries repeat, so a retry after a lost answer gets that answer. Pull writes
``FILE.part`` and resumes it with ``Range``; the file gets its name only once its digest
is verified.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO
from uuid import uuid4

import httpx

from guificloud.failpoints import failpoint
from guificloud.retries import IDEMPOTENCY_HEADER
from guificloud.signing import key_id, public_of, sign
from guificloud.tls import env_ca, verify

CHUNK = 8 * 1024 * 1024
READ_BLOCK = 1024 * 1024
Progress = Callable[[int, int], None]
"""Called with (bytes done, bytes in all)."""


class ImagestoreError(Exception):
    """The store refused, or could not be reached after every retry; says why."""


@dataclass(frozen=True)
class PushRequest:
    path: Path
    name: str
    version: str
    arch: str
    format: str
    channel: str = "stable"
    private_key: str | None = None
    """base64 of an ed25519 private key: the image is signed with it."""
    group_id: str | None = None
    """The group it is published for (where the caller is a publisher); operators need none."""

    def meta(self) -> dict[str, str]:
        return {
            "name": self.name,
            "version": self.version,
            "arch": self.arch,
            "format": self.format,
            "channel": self.channel,
        }

    def identity(self) -> dict[str, str]:
        return {"name": self.name, "version": self.version, "arch": self.arch}


def file_digest(path: Path, progress: Progress | None = None) -> str:
    sha = hashlib.sha256()
    total, done = path.stat().st_size, 0
    with open(path, "rb") as f:
        while block := f.read(READ_BLOCK):
            sha.update(block)
            done += len(block)
            if progress:
                progress(done, total)
    return f"sha256:{sha.hexdigest()}"


def explain(response: httpx.Response) -> str:
    """The server's reason, as one line."""
    try:
        detail = response.json().get("detail", response.text)
    except ValueError:
        return f"HTTP {response.status_code}: {response.text[:300]}"
    if isinstance(detail, list):
        detail = "; ".join(f"{d.get('loc', ['?'])[-1]}: {d.get('msg')}" for d in detail)
    return f"HTTP {response.status_code}: {detail}"


class Patience:
    """Waits with back-off after each failure of one operation; gives up after ``retries``."""

    def __init__(self, url: str, retries: int, backoff_s: float) -> None:
        self.url, self.retries, self.backoff_s = url, retries, backoff_s
        self.attempts = 0

    def failed(self, exc: Exception) -> None:
        self.attempts += 1
        if self.attempts > self.retries:
            raise ImagestoreError(f"image store at {self.url} unreachable: {exc}") from exc
        time.sleep(min(self.backoff_s * 2 ** (self.attempts - 1), 10.0))


class ImagestoreClient:
    def __init__(
        self,
        url: str,
        *,
        auth: httpx.Auth | None = None,
        timeout_s: float = 60.0,
        retries: int = 8,
        backoff_s: float = 0.5,
    ) -> None:
        """``auth``: the caller (:func:`guificloud.credentials.caller_auth`); reads need none."""
        self.url = url.rstrip("/")
        self.http = httpx.Client(
            base_url=self.url,
            auth=auth,
            timeout=httpx.Timeout(timeout_s, connect=5.0),
            verify=verify(env_ca()),
        )
        self.retries = retries
        self.backoff_s = backoff_s

    def __enter__(self) -> ImagestoreClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.http.close()

    def patience(self) -> Patience:
        return Patience(self.url, self.retries, self.backoff_s)

    @staticmethod
    def _check(response: httpx.Response, *ok: int) -> Any:
        if response.status_code not in (ok or (200,)):
            raise ImagestoreError(explain(response))
        return response.json() if response.content else None

    # -- images and keys -------------------------------------------------------------

    def images(self, **filters: str | None) -> list[dict[str, Any]]:
        params = {k: v for k, v in filters.items() if v is not None}
        images: list[dict[str, Any]] = self._check(self.http.get("/api/v1/images", params=params))
        return images

    def keys(self, *, include_revoked: bool = False) -> list[dict[str, Any]]:
        params = {"include_revoked": str(include_revoked).lower()}
        keys: list[dict[str, Any]] = self._check(self.http.get("/api/v1/keys", params=params))
        return keys

    def add_key(self, publisher: str, public_key: str, names: list[str]) -> dict[str, Any]:
        body = {"publisher": publisher, "public_key": public_key, "names": names}
        key: dict[str, Any] = self._check(self.http.post("/api/v1/keys", json=body), 201)
        return key

    def revoke_key(self, key_id: str) -> None:
        self._check(self.http.delete(f"/api/v1/keys/{key_id}"), 204)

    def image(self, image_id: str) -> dict[str, Any]:
        image: dict[str, Any] = self._check(self.http.get(f"/api/v1/images/{image_id}"))
        return image

    def deprecate(self, image_id: str) -> dict[str, Any]:
        """Operator only."""
        image: dict[str, Any] = self._check(self.http.post(f"/api/v1/images/{image_id}/deprecate"))
        return image

    def delete(self, image_id: str) -> dict[str, Any]:
        """Operator only; refused (409, saying by what) while a box, slice or sliver uses it."""
        image: dict[str, Any] = self._check(self.http.delete(f"/api/v1/images/{image_id}"))
        return image

    def collect_garbage(self) -> dict[str, Any]:
        """Operator only: blobs nothing names or uses, and upload leftovers, go now."""
        report: dict[str, Any] = self._check(self.http.post("/api/v1/gc"))
        return report

    # -- push ------------------------------------------------------------------------

    def push(
        self,
        req: PushRequest,
        *,
        chunk_size: int = CHUNK,
        hashing: Progress | None = None,
        progress: Progress | None = None,
        resumed: Callable[[int], None] | None = None,
    ) -> dict[str, Any]:
        """Upload ``req.path`` as a new image version and publish it; returns the image."""
        size = req.path.stat().st_size
        digest = file_digest(req.path, hashing)
        signed: dict[str, str] = {}
        if req.private_key is not None:
            signed = {
                "signature": sign(req.private_key, req.name, req.version, req.arch, digest),
                "key_id": key_id(public_of(req.private_key)),
            }
        session = self._session_for(req, size, digest, signed)
        offset: int = session["offset"]
        if offset and resumed:
            resumed(offset)
        with open(req.path, "rb") as f:
            while True:
                self._send(f, session["id"], offset, size, chunk_size, progress)
                done = self._complete(session["id"], req, digest)
                if isinstance(done, dict):
                    return done
                offset = done  # the server has less than we thought: go on from there

    def _session_for(
        self, req: PushRequest, size: int, digest: str, signed: dict[str, str]
    ) -> dict[str, Any]:
        """The session an earlier attempt left for these bytes, else a new one."""
        patience = self.patience()
        once = {IDEMPOTENCY_HEADER: str(uuid4())}
        while True:
            try:
                found = self._check(self.http.get("/api/v1/uploads", params=req.identity()))
                for session in found:
                    if session["size"] == size and session["digest"] == digest:
                        return dict(session)
                body = {**req.meta(), "size": size, "digest": digest, **signed}
                if req.group_id is not None:
                    body["group_id"] = req.group_id
                response = self.http.post("/api/v1/uploads", json=body, headers=once)
            except httpx.TransportError as exc:
                patience.failed(exc)
                continue
            if response.status_code == 409 and found:
                raise ImagestoreError(
                    f"{explain(response)} (session {found[0]['id']} has other bytes: "
                    f"cancel it with DELETE /api/v1/uploads/{found[0]['id']} to start again)"
                )
            return dict(self._check(response, 201))

    def _send(
        self,
        f: BinaryIO,
        session_id: str,
        offset: int,
        size: int,
        chunk_size: int,
        progress: Progress | None,
    ) -> None:
        url = f"/api/v1/uploads/{session_id}"
        patience = self.patience()
        if progress:
            progress(offset, size)
        while offset < size:
            f.seek(offset)
            data = f.read(min(chunk_size, size - offset))
            headers = {
                "Upload-Offset": str(offset),
                "Content-Type": "application/offset+octet-stream",
            }
            try:
                response = self.http.patch(url, content=data, headers=headers)
            except httpx.TransportError as exc:
                patience.failed(exc)
                offset = self._server_offset(url, patience)
                continue
            if response.status_code == 409:  # elsewhere, or busy with our broken request
                server = int(response.json()["offset"])
                if server == offset:
                    patience.failed(ImagestoreError(explain(response)))
                offset = server
                continue
            offset = int(self._check(response)["offset"])
            if progress:
                progress(offset, size)
            failpoint("imagestore.push.after_chunk")

    def _server_offset(self, url: str, patience: Patience) -> int:
        while True:
            try:
                response = self.http.head(url)
            except httpx.TransportError as exc:
                patience.failed(exc)
                continue
            if response.status_code != 200:
                raise ImagestoreError(f"upload session lost: HTTP {response.status_code}")
            return int(response.headers["Upload-Offset"])

    def _complete(self, session_id: str, req: PushRequest, digest: str) -> dict[str, Any] | int:
        """The published image, or the server's offset when it still misses bytes."""
        patience = self.patience()
        retried = False
        once = {IDEMPOTENCY_HEADER: str(uuid4())}
        while True:
            try:
                response = self.http.post(f"/api/v1/uploads/{session_id}/complete", headers=once)
            except httpx.TransportError as exc:
                patience.failed(exc)
                retried = True
                continue
            if response.status_code == 409 and "offset" in response.json():
                return int(response.json()["offset"])
            if response.status_code == 404 and retried:  # our first try did complete it
                for found in self.images(**req.identity()):
                    if found["digest"] == digest:
                        return found
            image: dict[str, Any] = self._check(response, 201)
            return image

    # -- pull ------------------------------------------------------------------------

    def resolve(self, ref: str, arch: str | None = None) -> dict[str, Any]:
        """``sha256:<hex>`` or ``NAME:VERSION`` -> what to download (``digest``, ``url``)."""
        if ref.startswith("sha256:"):
            return {"digest": ref, "url": f"/api/v1/blobs/{ref}"}
        name, sep, version = ref.rpartition(":")
        if not sep or not name or not version:
            raise ImagestoreError(f"{ref!r} is neither sha256:<hex> nor NAME:VERSION")
        found = self.images(name=name, version=version, arch=arch)
        if not found:
            raise ImagestoreError(f"no image {name} {version}" + (f" for {arch}" if arch else ""))
        if len(found) > 1:
            arches = ", ".join(sorted(i["arch"] for i in found))
            raise ImagestoreError(f"{name} {version} exists for {arches}: choose with --arch")
        return found[0]

    def pull(self, image: dict[str, Any], out: Path, *, progress: Progress | None = None) -> Path:
        """Download ``image`` to ``out`` through ``out.part``, resuming what is there."""
        part = out.with_name(out.name + ".part")
        digest: str = image["digest"]
        patience = self.patience()
        with open(part, "ab+") as f:
            f.seek(0)
            sha = hashlib.sha256()
            while block := f.read(READ_BLOCK):
                sha.update(block)
            while True:
                try:
                    complete = self._fetch(image["url"], digest, f, sha, progress)
                except httpx.TransportError as exc:
                    patience.failed(exc)
                    continue
                if complete:
                    break
                f.seek(0)  # the server would not resume: start over
                f.truncate()
                sha = hashlib.sha256()
        got = f"sha256:{sha.hexdigest()}"
        if got != digest:
            part.unlink(missing_ok=True)
            raise ImagestoreError(f"downloaded bytes hash to {got}, not {digest}; removed them")
        part.replace(out)
        return out

    def _fetch(
        self, url: str, digest: str, f: BinaryIO, sha: Any, progress: Progress | None
    ) -> bool:
        """Append the rest of the blob to ``f``; False if it must start over."""
        offset = f.seek(0, 2)
        headers = {"Range": f"bytes={offset}-", "If-Range": f'"{digest}"'} if offset else {}
        with self.http.stream("GET", url, headers=headers) as response:
            if response.status_code == 416 and offset:  # we have it all already
                size: str = response.headers.get("content-range", "*/-1").rsplit("/", 1)[1]
                return size == str(offset)
            if response.status_code not in (200, 206):
                response.read()
                raise ImagestoreError(explain(response))
            if response.status_code == 200 and offset:
                return False
            total = offset + int(response.headers.get("content-length", 0))
            if progress:
                progress(offset, total)
            for block in response.iter_bytes(READ_BLOCK):
                f.write(block)
                sha.update(block)
                offset += len(block)
                if progress:
                    progress(offset, total)
                failpoint("imagestore.pull.after_chunk")
            return True
