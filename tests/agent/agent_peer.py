"""What a box sees of the provisioner and the image store, served over real HTTP.

Both services are written in parallel with the agent, so the agent's tests run this small
server in the test process: desired states per box (checking the box's bearer token), image
blobs with HTTP Range (recording every Range asked for), and, for enrolment, box
configurations of the devices the real registry knows. It is scaffolding for the peer, not a
stand-in for NATS: reports and heartbeats go through the real NATS server.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from uuid import UUID, uuid4

import httpx
import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse

from guificloud import signing
from guificloud.boxes import BoxConfig, DesiredState, DistroSpec, SliverSpec
from guificloud.devservers.ports import free_port
from guificloud.testing.authority import ADMIN_TOKEN

RANGE = re.compile(r"^bytes=(\d+)-(\d*)$")
CHUNK = 16 * 1024


def sha256(data: bytes) -> str:
    return f"sha256:{hashlib.sha256(data).hexdigest()}"


@dataclass
class _Box:
    config: BoxConfig
    token: str
    desired: DesiredState


@dataclass
class _Blob:
    data: bytes
    honour_range: bool = True
    ranges: list[str | None] = field(default_factory=list)


class Peer:
    def __init__(
        self,
        nats_url: str,
        *,
        port: int | None = None,
        registry_url: str | None = None,
        heartbeat_interval_s: float = 0.2,
    ) -> None:
        self.nats_url = nats_url
        self.port = port or free_port()
        self.registry_url = registry_url
        self.heartbeat_interval_s = heartbeat_interval_s
        self.boxes: dict[UUID, _Box] = {}
        self.blobs: dict[str, _Blob] = {}
        self.config_polls: dict[UUID, int] = {}
        self.default_distro: DistroSpec | None = None
        """What boxes configured on enrolment are told to run."""
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- what the test sets up ---------------------------------------------------------

    def add_box(self, box_id: UUID | None = None) -> BoxConfig:
        box_id = box_id or uuid4()
        config = BoxConfig(
            box_id=box_id,
            token=secrets.token_hex(16),
            provisioner_url=self.url,
            nats_url=self.nats_url,
            heartbeat_interval_s=self.heartbeat_interval_s,
        )
        self.boxes[box_id] = _Box(
            config,
            config.token,
            DesiredState(
                box_id=box_id, generation=1, heartbeat_interval_s=self.heartbeat_interval_s
            ),
        )
        return config

    def put_blob(
        self,
        data: bytes,
        *,
        digest: str | None = None,
        honour_range: bool = True,
        signer: str | None = None,
        arch: str | None = None,
    ) -> DistroSpec:
        """Serve ``data``; ``digest`` may lie about it (a corrupt image in the store).
        ``signer`` is a private key (base64) that signs the image as a publisher would."""
        name = uuid4().hex
        self.blobs[name] = _Blob(data, honour_range)
        spec = DistroSpec(
            name="guifi-community-distro",
            version=name[:6],
            digest=digest or sha256(data),
            size=len(data),
            url=f"{self.url}/blobs/{name}",
            arch=arch,
        )
        if signer is None:
            return spec
        signature = signing.sign(signer, spec.name, spec.version, arch or "all", spec.digest)
        return spec.model_copy(
            update={"signature": signature, "key_id": signing.key_id(signing.public_of(signer))}
        )

    def trust(self, box_id: UUID, *public_keys: str) -> None:
        """The publisher keys the box's desired states list from now on (as the image store's
        trusted keys reach the provisioner)."""
        box = self.boxes[box_id]
        keys = {signing.key_id(k): k for k in public_keys}
        box.desired = box.desired.model_copy(update={"trusted_keys": keys})

    def want(self, box_id: UUID, distro: DistroSpec | None) -> DesiredState:
        """A new desired state: the generation goes up."""
        box = self.boxes[box_id]
        box.desired = box.desired.model_copy(
            update={"generation": box.desired.generation + 1, "distro": distro}
        )
        return box.desired

    def want_slivers(self, box_id: UUID, slivers: list[SliverSpec]) -> DesiredState:
        """A new desired state with these slivers (and the same platform)."""
        box = self.boxes[box_id]
        box.desired = box.desired.model_copy(
            update={"generation": box.desired.generation + 1, "slivers": slivers}
        )
        return box.desired

    def ranges(self, spec: DistroSpec) -> list[str | None]:
        """The Range header of every request for that blob (None: the whole blob)."""
        return list(self.blobs[spec.url.rsplit("/", 1)[1]].ranges)

    # -- serving -----------------------------------------------------------------------

    def _app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/api/v1/boxes")
        async def boxes() -> list[dict[str, str]]:
            """As the provisioner lists them: every box here is configured."""
            return [{"id": str(box_id), "state": "configured"} for box_id in list(self.boxes)]

        @app.get("/api/v1/boxes/{box_id}/desired")
        async def desired(box_id: UUID, request: Request) -> Response:
            box = self.boxes.get(box_id)
            if box is None:
                return JSONResponse({"detail": "unknown box"}, status_code=404)
            if request.headers.get("Authorization") != f"Bearer {box.token}":
                return JSONResponse({"detail": "bad token"}, status_code=401)
            return Response(box.desired.model_dump_json(), media_type="application/json")

        @app.get("/api/v1/boxes/{box_id}/config")
        async def config(box_id: UUID, request: Request) -> Response:
            if request.headers.get("Authorization") != f"Bearer {ADMIN_TOKEN}":
                return JSONResponse({"detail": "admin token required"}, status_code=401)
            if box_id not in self.boxes:
                await self._configure_later(box_id)
                return JSONResponse({"detail": "not configured yet"}, status_code=404)
            return Response(
                self.boxes[box_id].config.model_dump_json(), media_type="application/json"
            )

        @app.get("/blobs/{name}")
        async def blob(name: str, request: Request) -> Response:
            found = self.blobs.get(name)
            if found is None:
                return JSONResponse({"detail": "no such blob"}, status_code=404)
            asked = request.headers.get("Range")
            found.ranges.append(asked)
            return _serve(found, asked)

        return app

    async def _configure_later(self, box_id: UUID) -> None:
        """Like the provisioner: a cloud device of the registry gets configured, not at once."""
        self.config_polls[box_id] = self.config_polls.get(box_id, 0) + 1
        if self.registry_url is None or self.config_polls[box_id] < 2:
            return
        async with httpx.AsyncClient() as http:
            device = await http.get(f"{self.registry_url}/api/v1/devices/{box_id}")
        if device.status_code == 200 and device.json()["type"] in ("cloudy", "confine"):
            self.add_box(box_id)
            self.want(box_id, self.default_distro)

    def start(self) -> Peer:
        config = uvicorn.Config(
            self._app(),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="off",
            access_log=False,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"peer did not start on port {self.port}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(10)
            self._server = self._thread = None


def _serve(blob: _Blob, asked: str | None) -> Response:
    data, total = blob.data, len(blob.data)
    match = RANGE.match(asked or "") if blob.honour_range else None
    if match is None:
        return StreamingResponse(
            _chunks(data),
            headers={"Content-Length": str(total)},
            media_type="application/octet-stream",
        )
    start = int(match.group(1))
    end = min(int(match.group(2) or total - 1), total - 1)
    if start >= total:
        return Response(status_code=416, headers={"Content-Range": f"bytes */{total}"})
    return StreamingResponse(
        _chunks(data[start : end + 1]),
        status_code=206,
        media_type="application/octet-stream",
        headers={
            "Content-Range": f"bytes {start}-{end}/{total}",
            "Content-Length": str(end + 1 - start),
        },
    )


def _chunks(data: bytes) -> Iterator[bytes]:
    for i in range(0, len(data), CHUNK):
        yield data[i : i + CHUNK]
