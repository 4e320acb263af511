"""Downloads resume with HTTP Range after the agent stops mid-way, and cope with servers
that ignore Range (200: start over) or have nothing more to send (416: verify the partial)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.agent.agent_helpers import eventually, make_image, running_agent
from tests.agent.agent_peer import Peer

pytestmark = pytest.mark.integration


def _partial(cache: Path, digest: str) -> Path:
    return cache / "blobs" / "sha256" / f"{digest.removeprefix('sha256:')}.partial"


async def test_an_agent_stopped_mid_download_resumes_where_it_stopped(
    peer: Peer, reports, tmp_path: Path
) -> None:
    config = peer.add_box()
    image = make_image(400 * 1024)
    spec = peer.put_blob(image)
    desired = peer.want(config.box_id, spec)
    watch = await reports(config)
    partial = _partial(tmp_path, spec.digest)

    async with running_agent(config, tmp_path, download_rate_limit_bps=200_000):
        await watch.state("deploying")
        await eventually(lambda: partial.exists() and partial.stat().st_size >= 40 * 1024)
    stopped_at = partial.stat().st_size
    assert 0 < stopped_at < len(image)

    async with running_agent(config, tmp_path):
        await watch.state("running", distro_digest=spec.digest, generation=desired.generation)

    asked = peer.ranges(spec)
    assert asked[0] is None
    resumed = [int(m.group(1)) for r in asked[1:] if r and (m := re.match(r"bytes=(\d+)-$", r))]
    assert resumed and resumed[0] == stopped_at > 0
    final = tmp_path / "blobs" / "sha256" / spec.digest.removeprefix("sha256:")
    assert final.read_bytes() == image and not partial.exists()


async def test_a_server_ignoring_range_makes_the_agent_start_over(
    peer: Peer, reports, tmp_path: Path
) -> None:
    config = peer.add_box()
    image = make_image(64 * 1024)
    spec = peer.put_blob(image, honour_range=False)
    partial = _partial(tmp_path, spec.digest)
    partial.parent.mkdir(parents=True)
    partial.write_bytes(b"stale bytes of another try" * 100)
    peer.want(config.box_id, spec)
    watch = await reports(config)

    async with running_agent(config, tmp_path):
        await watch.state("running", distro_digest=spec.digest)
    assert peer.ranges(spec) == [f"bytes={len(b'stale bytes of another try') * 100}-"]
    assert (partial.parent / spec.digest.removeprefix("sha256:")).read_bytes() == image


async def test_a_complete_partial_is_verified_on_416(peer: Peer, reports, tmp_path: Path) -> None:
    config = peer.add_box()
    image = make_image(32 * 1024)
    spec = peer.put_blob(image)
    partial = _partial(tmp_path, spec.digest)
    partial.parent.mkdir(parents=True)
    partial.write_bytes(image)
    peer.want(config.box_id, spec)
    watch = await reports(config)

    async with running_agent(config, tmp_path):
        await watch.state("running", distro_digest=spec.digest)
    assert peer.ranges(spec) == [f"bytes={len(image)}-"]
