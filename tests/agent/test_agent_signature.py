"""Signed images: a box with trusted keys runs only images they sign, and says why not."""

from __future__ import annotations

from pathlib import Path

import pytest

from guificloud import signing
from guificloud.bus import Bus
from guificloud.events.envelope import Envelope
from guificloud.events.provisioner import BoxSync
from tests.agent.agent_helpers import make_image, running_agent
from tests.agent.agent_peer import Peer

pytestmark = pytest.mark.integration


async def _sync(bus: Bus, box_id, generation: int) -> None:
    command = BoxSync(box_id=box_id, generation=generation)
    await bus.publish(command.subject(), Envelope.wrap(command, source="provisioner"))


def _blobs(cache: Path) -> list[str]:
    return sorted(p.name for p in (cache / "blobs" / "sha256").iterdir())


async def test_only_images_signed_by_a_trusted_key_run(
    peer: Peer, bus: Bus, reports, tmp_path: Path
) -> None:
    private, public = signing.generate_key()
    stranger, _ = signing.generate_key()
    config = peer.add_box()
    peer.trust(config.box_id, public)
    watch = await reports(config)

    good = peer.put_blob(make_image(16 * 1024), signer=private, arch="amd64")
    first = peer.want(config.box_id, good)
    forged = peer.put_blob(make_image(16 * 1024), signer=private)
    forged = forged.model_copy(update={"signature": good.signature})
    untrusted = peer.put_blob(make_image(16 * 1024), signer=stranger)
    unsigned = peer.put_blob(make_image(16 * 1024))
    signed_for_amd64 = peer.put_blob(make_image(16 * 1024), signer=private, arch="amd64")
    other_arch = signed_for_amd64.model_copy(update={"arch": "arm64"})

    async with running_agent(config, tmp_path, resync_interval_s=300):
        await watch.state("running", generation=first.generation, distro_digest=good.digest)
        for spec, cause in (
            (forged, f"signature of image {forged.name} {forged.version}"),
            (untrusted, f"signed by untrusted key {untrusted.key_id}"),
            (unsigned, f"image {unsigned.name} {unsigned.version} is not signed"),
            (other_arch, "does not verify"),
        ):
            wanted = peer.want(config.box_id, spec)
            await _sync(bus, config.box_id, wanted.generation)
            failed = await watch.state("failed", generation=wanted.generation)
            assert failed.reason is not None and cause in failed.reason, failed.reason
            assert spec.digest.removeprefix("sha256:") not in _blobs(tmp_path)

        fixed = peer.want(config.box_id, good)
        await _sync(bus, config.box_id, fixed.generation)
        await watch.state("running", generation=fixed.generation, distro_digest=good.digest)
    # Refused images were never downloaded.
    assert all(r is None for r in peer.ranges(good)) and peer.ranges(forged) == []
    assert peer.ranges(untrusted) == peer.ranges(unsigned) == peer.ranges(other_arch) == []


async def test_keys_of_the_box_configuration_apply_when_the_desired_state_has_none(
    peer: Peer, reports, tmp_path: Path
) -> None:
    _, public = signing.generate_key()
    config = peer.add_box()
    config = config.model_copy(update={"trusted_keys": {signing.key_id(public): public}})
    spec = peer.put_blob(make_image(16 * 1024))
    peer.want(config.box_id, spec)
    watch = await reports(config)
    async with running_agent(config, tmp_path, resync_interval_s=300):
        failed = await watch.state("failed")
    assert failed.reason == f"image {spec.name} {spec.version} is not signed"


@pytest.mark.parametrize("required", [False, True])
async def test_unsigned_images_without_trusted_keys_run_unless_signatures_are_required(
    peer: Peer, reports, tmp_path: Path, required: bool
) -> None:
    config = peer.add_box()
    spec = peer.put_blob(make_image(16 * 1024))
    peer.want(config.box_id, spec)
    watch = await reports(config)
    async with running_agent(config, tmp_path, resync_interval_s=300, require_signature=required):
        report = await watch.until(lambda r: r.state in ("running", "failed"))
    if required:
        assert report.state == "failed"
        assert report.reason == f"image {spec.name} {spec.version} is not signed"
    else:
        assert report.state == "running"
