"""Onboarding a cloud box end to end: services and agents as real processes."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.e2e.system import HARDWARE, System, events_of, stored

pytestmark = pytest.mark.e2e

ONBOARDING = [
    "registry.device.added",
    "provisioner.box.registered",
    "provisioner.box.configured",
    "provisioner.box.deploying",
    "provisioner.box.ready",
]


def test_box_onboarded_end_to_end(system: System, distro_v1: Path) -> None:
    image = system.upload_distro(distro_v1, "1.0.0")
    box_id = system.add_cloud_box("vic-barri-box")

    system.wait_state(box_id, "configured")
    system.start_agent(box_id)
    box = system.wait_state(box_id, "ready")

    assert box["distro_digest"] == image["digest"]
    assert box["desired_distro"]["version"] == "1.0.0"
    assert [h["to_state"] for h in box["history"]] == [
        "registered",
        "configured",
        "deploying",
        "ready",
    ]
    stamps = [h["at"] for h in box["history"]]
    assert stamps == sorted(stamps)

    registry = stored(system.nats_url, "REGISTRY")
    provisioner = stored(system.nats_url, "PROVISIONER")
    by_time = sorted(registry + provisioner, key=lambda e: e.occurred_at)
    assert [t for t in events_of(by_time, box_id) if t in ONBOARDING] == ONBOARDING
    added = next(e for e in registry if e.type == "registry.device.added")
    configured = next(e for e in provisioner if e.type == "provisioner.box.configured")
    assert configured.correlation_id == added.correlation_id
    assert configured.causation_id == str(added.id)
    # A subscriber follows the whole onboarding by its correlation id alone.
    flow = [e.type for e in by_time if e.correlation_id == added.correlation_id]
    assert [t for t in flow if t in ONBOARDING] == ONBOARDING

    online = system.wait_monitor(box_id, "online")
    assert online["metrics"]["mem_total_mb"] > 0

    for agent in system.agents:
        agent.kill()
    system.wait_monitor(box_id, "offline")
    monitor = stored(system.nats_url, "MONITOR")
    assert [e.type for e in monitor if e.data.get("box_id") == box_id] == [
        "monitor.box.online",
        "monitor.box.offline",
    ]


def test_box_added_while_agent_offline_waits_then_becomes_ready(
    system: System, distro_v1: Path
) -> None:
    box_id = system.add_cloud_box("offline-box")
    system.wait_state(box_id, "configured")
    system.upload_distro(distro_v1, "1.0.0")
    box = system.wait_box(box_id, lambda b: b["desired_distro"] is not None, what="got a distro")
    assert box["state"] == "configured"

    system.start_agent(box_id)
    system.wait_state(box_id, "ready")


def test_box_of_an_arch_without_distro_says_why_and_onboards_once_one_is_published(
    system: System, distro_v1: Path, distro_v2: Path
) -> None:
    system.upload_distro(distro_v1, "1.0.0")  # amd64 only
    arm64 = {**HARDWARE, "arch": "arm64"}
    box_id = system.add_cloud_box("arm-box", hardware=arm64, device_type="confine")
    system.wait_state(box_id, "configured")
    system.start_agent(box_id)
    box = system.wait_box(box_id, lambda b: b["agent_state"] == "idle", what="heard its agent")
    waiting = "no guifi-community-distro (stable) published for arch arm64"
    assert (box["state"], box["desired_distro"], box["reason"]) == ("configured", None, waiting)
    configured = [
        e
        for e in stored(system.nats_url, "PROVISIONER")
        if e.type == "provisioner.box.configured" and e.data["box_id"] == box_id
    ]
    assert [e.data["reason"] for e in configured] == [waiting]

    image = system.upload_distro(distro_v2, "1.0.1", arch="arm64")
    box = system.wait_state(box_id, "ready")
    assert (box["distro_digest"], box["reason"]) == (image["digest"], None)
    assert [(h["to_state"], h["reason"]) for h in box["history"]] == [
        ("registered", None),
        ("configured", waiting),
        ("configured", None),
        ("deploying", None),
        ("ready", None),
    ]
    events = stored(system.nats_url, "REGISTRY") + stored(system.nats_url, "PROVISIONER")
    added = next(e for e in events if e.type == "registry.device.added")
    flow = sorted(
        (e for e in events if e.correlation_id == added.correlation_id),
        key=lambda e: e.occurred_at,
    )
    assert [e.type for e in flow] == [
        "registry.device.added",
        "provisioner.box.registered",
        "provisioner.box.configured",
        "provisioner.box.configured",
        "provisioner.box.deploying",
        "provisioner.box.ready",
    ]
    assert flow[3].data["reason"] is None


def test_agent_restarted_mid_download_still_ends_ready(system: System, tmp_path: Path) -> None:
    from guificloud_imagestore.distro import build_distro_rootfs

    big = build_distro_rootfs(tmp_path / "big.tar.gz", "2.0.0", padding_bytes=3 * 1024 * 1024)
    image = system.upload_distro(big, "2.0.0")
    box_id = system.add_cloud_box("slow-link-box")
    system.wait_state(box_id, "configured")

    agent = system.start_agent(box_id, rate_limit_bps=256 * 1024)
    partial = agent.cache_dir / "blobs" / "sha256" / (image["digest"].split(":")[1] + ".partial")
    system.wait_box(box_id, lambda b: b["state"] == "deploying", what="started deploying")
    _wait_for(lambda: partial.exists() and partial.stat().st_size > 256 * 1024)
    agent.kill()
    offset = partial.stat().st_size
    assert 0 < offset < image["size"]

    agent.start(rate_limit_bps=0)
    box = system.wait_state(box_id, "ready")
    assert box["distro_digest"] == image["digest"]
    starts = [json.loads(line) for line in agent.log().splitlines() if '"download.started"' in line]
    assert [s["offset"] for s in starts] == [0, offset], "the second download did not resume"


def test_corrupted_image_fails_the_box_and_a_good_one_recovers_it(
    system: System, distro_v1: Path, distro_v2: Path
) -> None:
    image = system.upload_distro(distro_v1, "1.0.0")
    blob = system.root / "data" / "imagestore" / "blobs" / "sha256" / image["digest"].split(":")[1]
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0xFF
    blob.write_bytes(bytes(data))

    box_id = system.add_cloud_box("corrupt-box")
    system.wait_state(box_id, "configured")
    system.start_agent(box_id)
    failed = system.wait_state(box_id, "failed")
    assert "digest" in failed["reason"]
    assert image["digest"] in failed["reason"]

    good = system.upload_distro(distro_v2, "1.0.1")
    time.sleep(1.0)
    assert system.box(box_id)["state"] == "failed", "a publication moved a box that has a distro"
    system.assign_distro(box_id)  # the operator moves it
    box = system.wait_state(box_id, "ready")
    assert box["distro_digest"] == good["digest"]
    assert [h["to_state"] for h in box["history"]][-3:] == ["failed", "deploying", "ready"]


def _wait_for(predicate, timeout_s: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    import time

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")
