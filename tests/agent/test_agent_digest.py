"""An image whose bytes do not match its digest is refused; a good one then recovers the box."""

from __future__ import annotations

from pathlib import Path

import pytest

from guificloud.bus import Bus
from guificloud.events.envelope import Envelope
from guificloud.events.provisioner import BoxSync
from tests.agent.agent_helpers import make_image, running_agent
from tests.agent.agent_peer import Peer, sha256

pytestmark = pytest.mark.integration


async def test_digest_mismatch_fails_then_a_good_image_recovers(
    peer: Peer, bus: Bus, reports, tmp_path: Path
) -> None:
    config = peer.add_box()
    claimed = sha256(b"the image the store says it has")
    corrupt = peer.put_blob(make_image(64 * 1024), digest=claimed)
    bad = peer.want(config.box_id, corrupt)
    watch = await reports(config)

    async with running_agent(config, tmp_path, resync_interval_s=300):
        failed = await watch.state("failed")
        assert failed.generation == bad.generation and failed.distro_digest == claimed
        assert failed.reason is not None
        assert failed.reason.startswith(f"digest mismatch: expected {claimed} got sha256:")
        assert list((tmp_path / "blobs" / "sha256").iterdir()) == []

        good = peer.put_blob(make_image(64 * 1024))
        fixed = peer.want(config.box_id, good)
        command = BoxSync(box_id=config.box_id, generation=fixed.generation)
        await bus.publish(command.subject(), Envelope.wrap(command, source="provisioner"))
        await watch.state("running", distro_digest=good.digest, generation=fixed.generation)

    assert watch.changes() == [
        ("deploying", bad.generation, claimed),
        ("failed", bad.generation, claimed),
        ("deploying", fixed.generation, good.digest),
        ("running", fixed.generation, good.digest),
    ]
    assert [p.name for p in (tmp_path / "blobs" / "sha256").iterdir()] == [
        good.digest.removeprefix("sha256:")
    ]


async def test_a_failed_box_retries_quietly_on_periodic_resync(
    peer: Peer, reports, tmp_path: Path
) -> None:
    """The store fixes the blob behind the same digest: the next periodic resync recovers."""
    config = peer.add_box()
    image = make_image(16 * 1024)
    spec = peer.put_blob(b"truncated" + image[:100], digest=sha256(image))
    desired = peer.want(config.box_id, spec)
    watch = await reports(config)

    async with running_agent(config, tmp_path, resync_interval_s=0.3):
        await watch.state("failed")
        peer.blobs[spec.url.rsplit("/", 1)[1]].data = image
        await watch.state("running", distro_digest=spec.digest)
    assert watch.changes() == [
        ("deploying", desired.generation, spec.digest),
        ("failed", desired.generation, spec.digest),
        ("running", desired.generation, spec.digest),
    ]


async def test_an_image_that_is_not_a_tar_fails_with_the_drivers_reason(
    peer: Peer, reports, tmp_path: Path
) -> None:
    config = peer.add_box()
    spec = peer.put_blob(b"\x7fELF not a root filesystem" * 50)
    peer.want(config.box_id, spec)
    watch = await reports(config)
    async with running_agent(config, tmp_path, resync_interval_s=300):
        failed = await watch.state("failed")
    assert failed.reason is not None and "not a readable tar" in failed.reason
