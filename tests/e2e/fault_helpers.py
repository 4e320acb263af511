"""A burst of cloud boxes through a fault (:mod:`guificloud.testing.burst`): what must hold
once the fault is over, and the processes a test started (none may outlive it)."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import httpx
import psutil

from guificloud.testing.burst import Burst
from tests.e2e.dev_helpers import alive
from tests.e2e.slices_helpers import wait_for

BURST = 20


# --- what must hold once the fault is over -----------------------------------------------
def get_json(url: str, token: str, **params: Any) -> Any:
    response = httpx.get(
        url, params=params, headers={"Authorization": f"Bearer {token}"}, timeout=10.0
    )
    assert response.status_code == 200, f"GET {url}: {response.status_code} {response.text}"
    return response.json()


def ready_boxes(provisioner_url: str, token: str) -> set[str]:
    try:
        boxes = get_json(f"{provisioner_url}/api/v1/boxes", token, state="ready", limit=5000)
    except (AssertionError, httpx.HTTPError):
        return set()
    return {str(b["id"]) for b in boxes}


def wait_all_ready(
    provisioner_url: str,
    token: str,
    device_ids: Iterable[str],
    timeout_s: float,
    why: Callable[[], str] = lambda: "",
) -> float:
    """Until every box is ready; when that was seen (``time.monotonic()``)."""
    wanted = set(device_ids)
    missing: set[str] = wanted

    def done() -> bool:
        nonlocal missing
        missing = wanted - ready_boxes(provisioner_url, token)
        return not missing

    wait_for(done, timeout_s, lambda: f"{len(missing)} boxes not ready\n{why()}")
    return time.monotonic()


def assert_nothing_lost(urls: dict[str, str], token: str, burst: Burst) -> None:
    """Every box ready and online, exactly one box per device and one node per request, and
    no dead letter in any service."""
    outcome = burst.outcome(urls["provisioner"])
    assert (outcome.lost, outcome.doubled) == (0, 0), outcome
    assert burst.nodes_requested == outcome.nodes == outcome.devices == outcome.boxes == BURST
    boxes = get_json(f"{urls['provisioner']}/api/v1/boxes", token, limit=5000)
    assert sorted(str(b["id"]) for b in boxes) == sorted(burst.device_ids), "one box per device"
    device_ids = set(burst.device_ids)

    def all_online() -> bool:
        try:
            watched = get_json(f"{urls['monitor']}/api/v1/boxes", token, limit=1000)
        except (AssertionError, httpx.HTTPError):
            return False  # still starting again
        online = [str(b["box_id"]) for b in watched if b["state"] == "online"]
        return sorted(online) == sorted(device_ids)

    wait_for(all_online, 30, lambda: "the monitor does not see every box online")

    for service, url in urls.items():
        letters = get_json(f"{url}/api/v1/deadletters", token)
        assert letters == [], f"{service} dead-lettered: {letters}"


def assert_outage_logged_briefly(root: Path, down_s: float) -> None:
    """In each service's log: per warning (and its consumer), about one line per ten seconds
    of outage, never a traceback; the kinds of failure an outage shows (refused, starting
    up, a connection cut mid-query) get a line each."""
    for path in sorted(root.glob("guificloud_*.log")):
        lines = [json.loads(line) for line in path.read_text().splitlines() if line.startswith("{")]
        loud = [line for line in lines if line.get("level") in ("warning", "error")]
        per_event = Counter((line["event"], line.get("durable")) for line in loud)
        assert max(per_event.values(), default=0) <= down_s / 10 + 6, (path.name, per_event)
        tracebacks = [line["event"] for line in loud if "exception" in line]
        assert not tracebacks, (path.name, tracebacks)


# --- processes -------------------------------------------------------------------------------
class Started:
    """Every process a test started (and their children), so that none outlives it.

    ``note()`` records what runs now below this process, leaving out what ran before the test
    (the session's NATS and PostgreSQL) and their own children (a backend serving a test)."""

    def __init__(self) -> None:
        me = psutil.Process()
        self._before = {p.pid for p in me.children(recursive=True)}
        self.seen: dict[int, psutil.Process] = {}

    def note(self, *roots: psutil.Process) -> None:
        for root in (psutil.Process(), *roots):
            try:
                found = root.children(recursive=True)
            except psutil.Error:
                continue
            for process in found:
                try:
                    if process.pid in self._before or process.ppid() in self._before:
                        continue
                except psutil.Error:
                    continue
                self.seen.setdefault(process.pid, process)

    def assert_none_left(self, timeout_s: float = 15.0) -> None:
        def gone() -> bool:
            return not any(alive(p) for p in self.seen.values())

        wait_for(
            gone,
            timeout_s,
            lambda: (
                "left running: " + str([(p.pid, p.name()) for p in self.seen.values() if alive(p)])
            ),
        )
