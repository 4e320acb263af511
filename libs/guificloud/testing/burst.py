"""A burst of cloud boxes added at once, by a client that retries through faults.

Each box is a node and a cloud device on it, in one zone. The client is the command line's
(:mod:`guificloud.retries`): every creating POST carries an ``Idempotency-Key`` and is
retried with the same key while the registry cannot answer, so ``nodes_requested`` is how
many nodes should exist afterwards, however many times each request was sent. It runs in
threads, so that whoever started it can strike with a fault meanwhile; :meth:`Burst.outcome`
then counts what was lost and what was made twice.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx

from guificloud.retries import Backoff, RetryingTransport

PATIENT = Backoff(attempts=400, first_s=0.2, max_s=1.0)
"""Retries every 0.5 to 1 s (jitter) for several minutes: through the longest outage."""

HARDWARE = {"arch": "amd64", "cores": 2, "ram_mb": 4096, "disk_gb": 120}


@dataclass(frozen=True)
class Outcome:
    """What a burst left in the registry and the provisioner (its zone's)."""

    requested: int
    nodes: int
    devices: int
    boxes: int
    ready: int
    """Devices of the burst with a ready box."""

    @property
    def lost(self) -> int:
        """Boxes asked for that are not ready (never created, or stuck)."""
        return self.requested - self.ready

    @property
    def doubled(self) -> int:
        """Nodes, devices and boxes beyond one per request."""
        extra = (
            self.nodes - self.requested,
            self.devices - self.requested,
            self.boxes - self.devices,
        )
        return sum(max(0, n) for n in extra)


class Burst:
    def __init__(
        self,
        registry_url: str,
        admin_token: str,
        n: int,
        *,
        name: str = "burst",
        concurrency: int = 8,
        backoff: Backoff = PATIENT,
    ) -> None:
        self.registry_url = registry_url
        self.admin_token = admin_token
        self.n = n
        self.name = name
        self.concurrency = concurrency
        self.backoff = backoff
        self.device_ids: list[str] = []
        self.zone_id: str | None = None
        self.nodes_requested = 0
        self.error: BaseException | None = None
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self) -> Burst:
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()
        return self

    def created(self) -> int:
        """Devices created so far."""
        return len(self.device_ids)

    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def wait(self, timeout_s: float) -> list[str]:
        """The ids of the devices (the boxes' ids) once all were created; raises if the
        client gave up, or if it still runs after ``timeout_s``."""
        assert self._thread is not None, "start() first"
        self._thread.join(timeout_s)
        if self._thread.is_alive():
            raise TimeoutError(f"{self.name}: {self.created()} of {self.n} after {timeout_s}s")
        if self.error is not None:
            raise RuntimeError(f"{self.name} failed: {self.error!r}") from self.error
        return list(self.device_ids)

    def _run(self) -> None:
        try:
            with httpx.Client(
                base_url=self.registry_url,
                transport=RetryingTransport(backoff=self.backoff),
                headers={"Authorization": f"Bearer {self.admin_token}"},
                timeout=15.0,
            ) as http:
                zone_id = str(_created(http.post("/api/v1/zones", json={"name": self.name}))["id"])
                self.zone_id = zone_id
                with ThreadPoolExecutor(self.concurrency) as pool:
                    list(pool.map(lambda i: self._add(http, zone_id, i), range(self.n)))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller by wait()
            self.error = exc

    def _add(self, http: httpx.Client, zone_id: str, i: int) -> None:
        with self._lock:
            self.nodes_requested += 1
        node = _created(
            http.post(
                "/api/v1/nodes",
                json={
                    "name": f"{self.name}-{i:04d}",
                    "zone_id": zone_id,
                    "latitude": 41.9 + i / 10_000,
                    "longitude": 2.2,
                    "status": "Working",
                },
            )
        )
        device = _created(
            http.post(
                f"/api/v1/nodes/{node['id']}/devices",
                json={"name": f"{self.name}-{i:04d}-box", "type": "cloudy", "hardware": HARDWARE},
            )
        )
        with self._lock:
            self.device_ids.append(str(device["id"]))

    def outcome(self, provisioner_url: str) -> Outcome:
        """Count, in the burst's zone, the nodes, devices and boxes there are, and how many
        of the boxes asked for are ready."""
        assert self.zone_id is not None, "the burst made no zone"
        auth = {"Authorization": f"Bearer {self.admin_token}"}
        with httpx.Client(headers=auth, timeout=30.0) as http:
            nodes = _listed(http, f"{self.registry_url}/api/v1/nodes", zone_id=self.zone_id)
            devices = _listed(http, f"{self.registry_url}/api/v1/devices", within=self.zone_id)
            boxes = _listed(http, f"{provisioner_url}/api/v1/boxes", zone_id=self.zone_id)
        ready = {str(b["id"]) for b in boxes if b["state"] == "ready"}
        return Outcome(
            requested=self.n,
            nodes=len(nodes),
            devices=len(devices),
            boxes=len(boxes),
            ready=len(ready & set(self.device_ids)),
        )


def _listed(http: httpx.Client, url: str, **params: str) -> list[dict[str, Any]]:
    response = http.get(url, params={**params, "limit": 1000})
    response.raise_for_status()
    return list(response.json())


def _created(response: httpx.Response) -> dict[str, Any]:
    if response.status_code != 201:
        raise RuntimeError(
            f"{response.request.method} {response.request.url}: "
            f"{response.status_code} {response.text[:500]}"
        )
    return dict(response.json())
