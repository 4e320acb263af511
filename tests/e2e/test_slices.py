"""Slices end to end on simulated boxes: services, and a fleet of box agents, as real
processes; placement, the ``register → deploy → start`` ladder and back, and convergence
after a provisioner or the agents are killed mid-way."""

from __future__ import annotations

from pathlib import Path

import pytest

from guificloud.testing.processes import ServiceProcess
from tests.e2e.slices_helpers import (
    create_slice,
    desired_slivers,
    running_fleet,
    set_state,
    sliver_events,
    slivers,
    wait_all,
    wait_gone,
    wait_reported,
)
from tests.e2e.system import System

pytestmark = pytest.mark.e2e


def test_a_slice_climbs_the_ladder_and_back_then_is_deleted(
    system: System, distro_v1: Path, tmp_path: Path
) -> None:
    system.upload_distro(distro_v1, "1.0.0")
    with running_fleet(system, 4, tmp_path) as fleet:
        created = create_slice(system, "ladder", {"count": 3, "spread": True})
        assert created["set_state"] == "register"
        placed = slivers(system, created["id"])
        assert len(placed) == 3
        assert len({v["box_id"] for v in placed}) == 3
        assert len({v["node_id"] for v in placed}) == 3, "spread: one sliver per node"
        assert {v["box_id"] for v in placed} <= set(fleet.box_ids())
        assert all(v["image"]["name"] == "guifi-community-distro" for v in placed)

        set_state(system, created["id"], "deploy")
        wait_all(system, created["id"], "deployed", 3)
        set_state(system, created["id"], "start")
        started = wait_all(system, created["id"], "started", 3)
        assert all(v["effective_set_state"] == "start" for v in started)

        events = sliver_events(system, "started")
        assert sorted(str(e.data["sliver_id"]) for e in events) == sorted(v["id"] for v in placed)
        shown = system.http.get(system.url("provisioner", f"/api/v1/slices/{created['id']}"))
        assert shown.json()["settled"] is True
        assert shown.json()["counts"].get("started") == 3

        set_state(system, created["id"], "deploy")  # stop: back to deploy
        wait_all(system, created["id"], "deployed", 3)

        response = system.http.delete(system.url("provisioner", f"/api/v1/slices/{created['id']}"))
        assert response.status_code == 202, response.text
        wait_gone(system, created["id"])
        for config in fleet.configs():
            assert desired_slivers(system, config) == []


def test_slices_converge_after_the_provisioner_and_the_agents_are_killed_mid_way(
    system: System, distro_v1: Path, tmp_path: Path
) -> None:
    system.upload_distro(distro_v1, "1.0.0")
    with running_fleet(system, 4, tmp_path) as fleet:
        created = create_slice(system, "crashes", {"count": 3, "spread": True})

        # The provisioner dies (SIGKILL) inside the transaction of the first report of the
        # deploy, before it commits; restarted, it must still bring every sliver to deployed.
        wait_reported(system, [v["id"] for v in slivers(system, created["id"])])
        provisioner = system.services["provisioner"]
        provisioner.stop()
        crashing = ServiceProcess(
            "guificloud_provisioner",
            port=provisioner.port,
            env={**system.env, "GUIFICLOUD_FAILPOINTS": "provisioner-agents.before_commit=kill"},
            log_dir=tmp_path / "crashing",
        )
        (tmp_path / "crashing").mkdir()
        crashing.start()
        try:
            set_state(system, created["id"], "deploy")
            assert crashing.process is not None
            assert crashing.process.wait(30) == -9, "the failpoint did not kill the provisioner"
        finally:
            crashing.kill()
        provisioner.start()
        wait_all(system, created["id"], "deployed", 3)

        # Every agent is down when the start is asked for: it missed the command, and
        # learns of it when it comes back.
        fleet.kill()
        set_state(system, created["id"], "start")
        fleet.start()
        started = wait_all(system, created["id"], "started", 3, timeout_s=45)
        assert {v["box_id"] for v in started} <= set(fleet.box_ids())
        assert len(fleet.box_ids()) == 4, "the restarted fleet enrolled new boxes"
