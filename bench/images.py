"""Image transfer benchmark: a 1 GiB image up to and down from the image store over HTTP.

Starts PostgreSQL and NATS from the wheels and the image store as its own process, writes a
1 GiB file of random-looking bytes (a 1 MiB random block, repeated, each copy stamped with
its index: real bytes on disk, not a sparse file), then measures on loopback:

- ``upload_mb_s``: the single-request streaming upload (``POST /api/v1/images``), until the
  store answers 201 (hashed, synced, filed, recorded);
- ``download_mb_s``: a streaming download of the blob into a file, each block written as
  it arrives (httpx, as the CLI's pull does);
- ``download_discard_mb_s``: the same blob read by a bare socket client that only counts
  the bytes: what the store sends when the client costs nothing (on loopback, the Python
  HTTP client and the file it writes are the limit of ``download_mb_s``, not the store);
- ``floor_copy_mb_s``: ``shutil.copyfile`` of the same file on the same disk, this run
  (and ``floor_copy_synced_mb_s``: the same followed by fsync, as the store syncs a blob
  before filing it; when the page cache takes a whole 1 GiB copy, the plain floor is the
  speed of memory, not of the disk);
- ``peak_rss_mb``: the highest RSS of the image store process during both transfers,
  sampled every 50 ms.

Profiled (py-spy, curl to /dev/null): the store sends a cached 1 GiB blob at 3–4 GB/s, most
of it in the kernel's copy into the socket; ``download_mb_s`` is bounded by the client.
An earlier client that handed blocks to a writer thread measured 220–560 MB/s for the same
store (GIL hand-offs between the reading and the writing thread), which is why this one
writes inline.

    .venv/bin/python bench/images.py [--size-mib 1024] [--dir /var/tmp]

MB are 10^6 bytes. Prints progress, then as its last line one JSON object.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import secrets
import shutil
import socket
import sys
import tarfile
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psutil

from guificloud.devservers.nats import NatsServer
from guificloud.devservers.ports import free_port
from guificloud.devservers.postgres import PostgresServer
from guificloud.testing.processes import ServiceProcess

MIB = 1024 * 1024
MB = 1_000_000
BLOCK = MIB

ADMIN = secrets.token_urlsafe(32)
"""The store's admin token: the bench publishes as an operator."""


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def write_image(path: Path, size: int) -> str:
    """Write ``size`` bytes, a tar of one member of random bytes (the store checks that an
    upload is the archive it says); returns their digest."""
    block = bytearray(os.urandom(BLOCK))
    member = tarfile.TarInfo("rootfs.img")
    member.size = size - tarfile.BLOCKSIZE
    header = member.tobuf(format=tarfile.GNU_FORMAT)
    sha = hashlib.sha256()
    with open(path, "wb") as f:
        for i in range(size // BLOCK):
            block[:8] = i.to_bytes(8, "big")
            if i == 0:
                block[: len(header)] = header
            f.write(block)
            sha.update(block)
        f.flush()
        os.fsync(f.fileno())
    return f"sha256:{sha.hexdigest()}"


def file_digest(path: Path) -> str:
    sha = hashlib.sha256()
    for data in file_blocks(path):
        sha.update(data)
    return f"sha256:{sha.hexdigest()}"


def file_blocks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as f:
        while data := f.read(BLOCK):
            yield data


class PeakRss:
    """Samples a process's RSS every ``interval_s`` in a thread; keeps the highest."""

    def __init__(self, pid: int, interval_s: float = 0.05) -> None:
        self.process = psutil.Process(pid)
        self.interval_s = interval_s
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            self._stop.wait(self.interval_s)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()


def settle() -> None:
    """Write back what earlier steps left dirty, so each measure starts from the same state."""
    os.sync()
    time.sleep(1.0)


def timed_copy(source: Path, target: Path, *, sync: bool = False) -> float:
    start = time.perf_counter()
    shutil.copyfile(source, target)
    if sync:
        with open(target, "rb+") as f:
            os.fsync(f.fileno())
    elapsed = time.perf_counter() - start
    target.unlink()
    return elapsed


def upload(client: httpx.Client, path: Path, size: int) -> tuple[float, dict[str, object]]:
    params = {"name": "bench-image", "version": "1.0.0", "arch": "amd64", "format": "tar"}
    headers = {"Content-Type": "application/octet-stream", "Content-Length": str(size)}
    start = time.perf_counter()
    response = client.post(
        "/api/v1/images", params=params, content=file_blocks(path), headers=headers
    )
    elapsed = time.perf_counter() - start
    if response.status_code != 201:
        raise RuntimeError(f"upload refused: {response.status_code} {response.text}")
    image: dict[str, object] = response.json()
    return elapsed, image


def download(client: httpx.Client, url: str, target: Path) -> tuple[float, int]:
    """Stream into ``target``, writing each block as it arrives."""
    start = time.perf_counter()
    received = 0
    with open(target, "wb") as f, client.stream("GET", url) as response:
        response.raise_for_status()
        for data in response.iter_raw():
            f.write(data)
            received += len(data)
    return time.perf_counter() - start, received


def download_discard(base_url: str, path: str) -> tuple[float, int]:
    """GET ``path`` over a bare socket into one reused buffer; returns (seconds, body bytes)."""
    where = urlsplit(base_url)
    host, port = where.hostname or "127.0.0.1", where.port or 80
    buffer = memoryview(bytearray(4 * MIB))
    start = time.perf_counter()
    with socket.create_connection((host, port)) as sock:
        request = f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        sock.sendall(request.encode())
        head, received = b"", 0
        while b"\r\n\r\n" not in head:
            n = sock.recv_into(buffer)
            if not n:
                raise RuntimeError(f"no answer to GET {path}: {head[:200]!r}")
            head += bytes(buffer[:n])
        status = head.split(b"\r\n", 1)[0]
        if b" 200 " not in status:
            raise RuntimeError(f"GET {path}: {status.decode()}")
        received = len(head) - head.index(b"\r\n\r\n") - 4
        while n := sock.recv_into(buffer):
            received += n
    return time.perf_counter() - start, received


def measure(root: Path, size: int) -> dict[str, object]:
    pg = PostgresServer(root / "postgres", port=free_port())
    nats_server = NatsServer(root / "nats", port=free_port())
    pg.start(log_file=root / "postgres.log")
    nats_server.start(log_file=root / "nats.log")
    store: ServiceProcess | None = None
    try:
        pg.create_database("guificloud")
        store = ServiceProcess(
            "guificloud_imagestore",
            env={
                "GUIFICLOUD_DATABASE_URL": pg.url("guificloud"),
                "GUIFICLOUD_NATS_URL": nats_server.url,
                "GUIFICLOUD_DATA_DIR": str(root / "data"),
                "GUIFICLOUD_IMAGESTORE_REQUIRE_SIGNATURE": "false",  # unsigned, as in development
                "GUIFICLOUD_LOG_LEVEL": "warning",
                "GUIFICLOUD_ENVIRONMENT": "development",  # as guificloud dev runs them
                "GUIFICLOUD_ADMIN_TOKEN": ADMIN,
            },
            log_dir=root,
        )
        store.start()
        assert store.process is not None

        say(f"writing a {size // MIB} MiB image")
        source = root / "image.tar"
        digest = write_image(source, size)

        settle()
        say("floor: shutil.copyfile on the same disk")
        floor_s = timed_copy(source, root / "copy.tar")
        settle()
        say("synced floor: the same, then fsync (the store syncs before filing a blob)")
        synced_floor_s = timed_copy(source, root / "copy.tar", sync=True)

        settle()
        with httpx.Client(
            base_url=store.url,
            timeout=httpx.Timeout(600.0),
            headers={"Authorization": f"Bearer {ADMIN}"},  # publishing is for operators
        ) as client:
            with PeakRss(store.process.pid) as rss:
                say("upload: one streaming request")
                upload_s, image = upload(client, source, size)
                settle()
                say("download: streaming into a file")
                download_s, received = download(client, str(image["url"]), root / "pulled.tar")
                pulled = file_digest(root / "pulled.tar")
                settle()
                say("download: a bare client that discards the bytes")
                discard_s, discarded = download_discard(store.url, str(image["url"]))
    finally:
        if store is not None:
            store.stop()
        nats_server.stop()
        pg.stop()
    if image["digest"] != digest or pulled != digest or (received, discarded) != (size, size):
        raise RuntimeError(
            f"transfer lost bytes: sent {digest}, stored {image['digest']}, pulled {pulled} "
            f"({received} bytes), discarded {discarded} bytes"
        )
    floor, synced_floor = size / floor_s / MB, size / synced_floor_s / MB
    up, down = size / upload_s / MB, size / download_s / MB
    return {
        "size_bytes": size,
        "upload_mb_s": round(up, 1),
        "download_mb_s": round(down, 1),
        "download_discard_mb_s": round(size / discard_s / MB, 1),
        "floor_copy_mb_s": round(floor, 1),
        "floor_copy_synced_mb_s": round(synced_floor, 1),
        "upload_vs_floor": round(up / floor, 2),
        "download_vs_floor": round(down / floor, 2),
        "peak_rss_mb": round(rss.peak / MB, 1),
        "digest_verified": True,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--dir", type=Path, default=None, help="Where the files go (one disk).")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="guificloud-bench-images-", dir=args.dir) as tmp:
        result = measure(Path(tmp), args.size_mib * MIB)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
