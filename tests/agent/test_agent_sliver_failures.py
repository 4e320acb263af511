"""Slivers that cannot be had: too little memory or disk (``fail_allocate``), an image the
box may not or cannot run (``fail_deploy``), each with its reason, retried until it works."""

from __future__ import annotations

from pathlib import Path

import pytest

from guificloud import signing
from guificloud.bus import Bus
from tests.agent.agent_helpers import make_image, running_agent, sliver_spec, sync
from tests.agent.agent_peer import Peer, sha256

pytestmark = pytest.mark.integration


async def test_slivers_the_box_cannot_hold_fail_to_allocate_and_are_retried(
    peer: Peer, bus: Bus, reports, tmp_path: Path
) -> None:
    config = peer.add_box()
    peer.want(config.box_id, peer.put_blob(make_image(16 * 1024)))  # 1024 MB, 8192 MB
    image = peer.put_blob(make_image(16 * 1024))
    too_much_memory = sliver_spec(image, memory_mb=512, disk_mb=100)
    too_much_disk = sliver_spec(image, memory_mb=64, disk_mb=900)
    first = sliver_spec(image, memory_mb=300, disk_mb=100)
    second = sliver_spec(image, memory_mb=300, disk_mb=100)
    peer.want_slivers(config.box_id, [too_much_memory, too_much_disk, first, second])
    watch = await reports(config)

    async with running_agent(
        config, tmp_path, resync_interval_s=0.3, host_memory_mb=1500, host_disk_mb=9000
    ) as agent:
        memory = await watch.sliver(too_much_memory.sliver_id, "fail_allocate")
        disk = await watch.sliver(too_much_disk.sliver_id, "fail_allocate")
        ids = {first.sliver_id, second.sliver_id}
        settled = await watch.until(
            lambda r: (
                sorted(s.state for s in r.slivers if s.sliver_id in ids)
                == ["deployed", "fail_allocate"]
            )
        )
        assert memory.reason is not None
        assert memory.reason.startswith("not enough memory: the sliver needs 512 MB, ")
        assert "free of 1500 MB (platform 1024 MB, " in memory.reason
        assert disk.reason is not None and disk.reason.startswith("not enough disk: ")
        assert "memory" not in disk.reason
        refused = next(s for s in settled.slivers if s.sliver_id in ids and s.reason)
        assert refused.reason is not None and "not enough memory" in refused.reason

        # Retried on every resync, quietly: once each reason says what the others hold (the
        # first tries raced), periodic resyncs come and go and no report says the same again.
        stable = await watch.until(
            lambda r: sum("1 other slivers" in (s.reason or "") for s in r.slivers) == 3
        )
        since = next(i for i, r in enumerate(watch.seen) if r is stable) + 1
        with pytest.raises(AssertionError, match="no such report"):
            await watch.until(lambda r: True, timeout_s=1.2, since=since)
        assert agent.last_trigger is not None and agent.last_trigger.reason == "periodic"

        # The one that got in leaves: the refused one fits now.
        kept = second if refused.sliver_id == second.sliver_id else first
        desired = peer.want_slivers(config.box_id, [too_much_memory, too_much_disk, kept])
        await sync(bus, config.box_id, desired.generation)
        await watch.sliver(kept.sliver_id, "deployed", since=since)
    assert len(peer.ranges(image)) == 1


async def test_images_the_box_may_not_or_cannot_run_fail_to_deploy(
    peer: Peer, bus: Bus, reports, tmp_path: Path
) -> None:
    private, public = signing.generate_key()
    config = peer.add_box()
    peer.trust(config.box_id, public)
    unsigned = peer.put_blob(make_image(16 * 1024))
    content = make_image(16 * 1024)
    lying = peer.put_blob(content, digest="sha256:" + "0" * 64, signer=private)
    not_tar = peer.put_blob(b"this is no root filesystem" * 100, signer=private)
    slivers = [sliver_spec(unsigned), sliver_spec(lying), sliver_spec(not_tar, "start")]
    peer.want_slivers(config.box_id, slivers)
    watch = await reports(config)

    async with running_agent(config, tmp_path, resync_interval_s=300):
        reasons = []
        for sliver in slivers:
            failed = await watch.sliver(sliver.sliver_id, "fail_deploy")
            reasons.append(failed.reason)
        assert reasons[0] == f"image {unsigned.name} {unsigned.version} is not signed"
        assert reasons[1] == f"digest mismatch: expected {lying.digest} got {sha256(content)}"
        assert reasons[2] is not None
        assert reasons[2].startswith("simulated driver: not a readable tar image")
        assert peer.ranges(unsigned) == [], "a refused image is not downloaded"

        signed = peer.put_blob(make_image(16 * 1024), signer=private)
        fixed = slivers[0].model_copy(update={"image": signed})
        desired = peer.want_slivers(config.box_id, [fixed, *slivers[1:]])
        await sync(bus, config.box_id, desired.generation)
        await watch.sliver(fixed.sliver_id, "deployed", image_digest=signed.digest)
    blobs = {p.name for p in (tmp_path / "blobs" / "sha256").iterdir()}
    assert blobs == {signed.digest[7:], not_tar.digest[7:]}, "nothing unverified is kept"


async def test_a_sliver_that_fails_to_deploy_holds_nothing(
    peer: Peer, reports, tmp_path: Path
) -> None:
    private, public = signing.generate_key()
    config = peer.add_box()
    peer.trust(config.box_id, public)
    unsigned = sliver_spec(peer.put_blob(make_image(16 * 1024)), memory_mb=64)
    signed = sliver_spec(peer.put_blob(make_image(16 * 1024), signer=private), memory_mb=64)
    peer.want_slivers(config.box_id, [unsigned, signed])
    watch = await reports(config)
    async with running_agent(config, tmp_path, resync_interval_s=0.2, host_memory_mb=100):
        await watch.sliver(unsigned.sliver_id, "fail_deploy")
        await watch.sliver(signed.sliver_id, "deployed")
