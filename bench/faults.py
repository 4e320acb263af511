"""Faults benchmark: how soon a burst of boxes converges after PostgreSQL or the provisioner
comes back, and whether anything was lost or made twice, on the embedded default.

Starts PostgreSQL (durable commits, as ``guificloud dev`` runs it) and NATS from the wheels,
every service as its own process with its default settings, seeds a Guifi-Community-Distro,
and runs the simulated boxes in a process of their own (``guificloud agent sim --adopt``: a
box starts as soon as the provisioner has configured it). Then, one after the other, a burst
of ``--boxes`` devices is added by a client that retries with an ``Idempotency-Key``
(:mod:`guificloud.testing.burst`), and a quarter of the way in:

- nothing happens (``baseline_s``: from that moment until every box is ready);
- the PostgreSQL postmaster is SIGKILLed and started again ``--pg-down`` seconds later
  (``converge_after_pg_s``: from the database accepting connections until every box is ready);
- the provisioner is SIGKILLed and started again a second later, as ``guificloud dev`` does
  (``converge_after_kill_s``: from the kill until every box is ready; of which
  ``provisioner_restart_s`` until the new provisioner answers ready: the second's wait and
  its start-up, mostly imports, which a loaded machine stretches).

    .venv/bin/python bench/faults.py [--boxes 20] [--pg-down 90]

Prints progress, then as its last line one JSON object with those figures and ``lost``
(boxes asked for and not ready) and ``doubled`` (nodes, devices or boxes beyond one per
request), summed over the cases. Targets: lost 0, doubled 0, both convergences within 5 s.
"""

from __future__ import annotations

import argparse
import json
import secrets
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from guificloud.devservers.nats import NatsServer
from guificloud.devservers.ports import free_port
from guificloud.devservers.postgres import PostgresServer
from guificloud.testing.burst import Burst, Outcome
from guificloud.testing.fleet import FleetProcess
from guificloud.testing.processes import ServiceProcess
from guificloud_imagestore.distro import build_distro_rootfs

SERVICES = ("registry", "provisioner", "monitor", "imagestore")
ADMIN = secrets.token_urlsafe(32)
"""The deployment's admin token: 32 random bytes, as outside development it must be."""
CONVERGE_TIMEOUT_S = 300.0


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Bench:
    def __init__(self, root: Path, boxes: int) -> None:
        self.root = root
        self.boxes = boxes
        self.pg = PostgresServer(root / "postgres", port=free_port())
        self.nats = NatsServer(root / "nats", port=free_port())
        ports = {name: free_port() for name in SERVICES}
        self.urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
        env = {
            "GUIFICLOUD_DATABASE_URL": self.pg.url("guificloud"),
            "GUIFICLOUD_NATS_URL": self.nats.url,
            "GUIFICLOUD_DATA_DIR": str(root / "data"),
            "GUIFICLOUD_ADMIN_TOKEN": ADMIN,
            "GUIFICLOUD_ENVIRONMENT": "development",  # as guificloud dev runs them
            "GUIFICLOUD_IMAGESTORE_REQUIRE_SIGNATURE": "false",  # unsigned, as in development
            "GUIFICLOUD_IMAGESTORE_URL": self.urls["imagestore"],
            "GUIFICLOUD_LOG_LEVEL": "warning",
        }
        self.services = {
            name: ServiceProcess(f"guificloud_{name}", env=env, port=ports[name], log_dir=root)
            for name in SERVICES
        }
        self.fleet = FleetProcess(
            root,
            registry_url=self.urls["registry"],
            provisioner_url=self.urls["provisioner"],
            admin_token=ADMIN,
            boxes=3 * boxes,
            log_level="warning",
        )
        self.restart_s = 0.0
        """From the provisioner's kill until it answers ready again."""

    def start(self) -> None:
        self.pg.start(log_file=self.root / "postgres.log")
        self.pg.create_database("guificloud")
        self.nats.start(log_file=self.root / "nats.log")
        for proc in self.services.values():
            proc.start(wait=False)
        for proc in self.services.values():
            proc.wait_ready()
        image = build_distro_rootfs(self.root / "distro.tar.gz", "1.0.0")
        response = httpx.post(
            f"{self.urls['imagestore']}/api/v1/images",
            params={
                "name": "guifi-community-distro",
                "version": "1.0.0",
                "arch": "amd64",
                "format": "tar.gz",
            },
            content=image.read_bytes(),
            headers={"Authorization": f"Bearer {ADMIN}"},
            timeout=60,
        )
        response.raise_for_status()
        time.sleep(1.0)  # let the provisioner learn of the distro
        self.fleet.start()

    def stop(self) -> None:
        self.fleet.stop()
        for proc in self.services.values():
            proc.stop()
        self.nats.stop()
        self.pg.stop()

    def case(self, name: str, fault: Callable[[], float]) -> tuple[float, Outcome]:
        """A burst; ``fault`` strikes a quarter of the way in and returns the moment to
        measure from. Seconds from then until every box is ready, and the outcome."""
        burst = Burst(self.urls["registry"], ADMIN, self.boxes, name=name).start()
        while burst.created() < max(1, self.boxes // 4) and burst.running():
            time.sleep(0.02)
        since = fault()
        ready_at = self._all_ready(burst)
        outcome = burst.outcome(self.urls["provisioner"])
        took = ready_at - since
        say(f"{name}: {outcome} converged {took:.2f}s after")
        return took, outcome

    def _all_ready(self, burst: Burst) -> float:
        deadline = time.monotonic() + CONVERGE_TIMEOUT_S
        url = f"{self.urls['provisioner']}/api/v1/boxes"
        with httpx.Client(timeout=5) as http:
            while time.monotonic() < deadline:
                if not burst.running() and burst.zone_id is not None:
                    params = {"zone_id": burst.zone_id, "state": "ready", "limit": 5000}
                    try:
                        response = http.get(url, params=params)
                        if response.status_code == 200 and len(response.json()) >= burst.n:
                            return time.monotonic()
                    except httpx.HTTPError:
                        pass  # the provisioner starting again
                time.sleep(0.05)
        say(f"{burst.name}: not every box ready after {CONVERGE_TIMEOUT_S}s")
        return time.monotonic()

    # --- faults: each returns the moment convergence is measured from ----------------------
    def nothing(self) -> float:
        return time.monotonic()

    def postgres_down(self, down_s: float) -> Callable[[], float]:
        def fault() -> float:
            assert self.pg.process is not None
            self.pg.process.send_signal(signal.SIGKILL)
            self.pg.process.wait()
            say(f"postgres: SIGKILLed, back in {down_s:.0f}s")
            time.sleep(down_s)
            self.pg.start(log_file=self.root / "postgres.log")
            return time.monotonic()  # accepting connections

        return fault

    def provisioner_killed(self) -> float:
        provisioner = self.services["provisioner"]
        killed = time.monotonic()
        provisioner.kill()
        time.sleep(1.0)  # guificloud dev's first restart delay
        provisioner.start(wait=False)

        def answering() -> None:
            provisioner.wait_ready()
            self.restart_s = time.monotonic() - killed

        threading.Thread(target=answering, daemon=True).start()
        return killed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--boxes", type=int, default=20)
    parser.add_argument("--pg-down", type=float, default=90.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="guificloud-bench-") as tmp:
        bench = Bench(Path(tmp), args.boxes)
        try:
            bench.start()
            say(f"services and fleet running; bursts of {args.boxes} boxes")
            baseline, first = bench.case("baseline", bench.nothing)
            after_pg, second = bench.case("pg", bench.postgres_down(args.pg_down))
            after_kill, third = bench.case("kill", bench.provisioner_killed)
        finally:
            bench.stop()
    outcomes = (first, second, third)
    print(
        json.dumps(
            {
                "boxes": args.boxes,
                "pg_down_s": args.pg_down,
                "baseline_s": round(baseline, 2),
                "converge_after_pg_s": round(after_pg, 2),
                "converge_after_kill_s": round(after_kill, 2),
                "provisioner_restart_s": round(bench.restart_s, 2),
                "lost": sum(o.lost for o in outcomes),
                "doubled": sum(o.doubled for o in outcomes),
            }
        )
    )


if __name__ == "__main__":
    main()
