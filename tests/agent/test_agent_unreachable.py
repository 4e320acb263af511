"""An agent whose provisioner is away, or refuses it, keeps trying and never crashes."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path

import pytest

from tests.agent.agent_helpers import make_image, running_agent
from tests.agent.agent_peer import Peer

pytestmark = pytest.mark.integration


async def test_keeps_retrying_until_the_provisioner_appears(
    nats_url: str, reports, tmp_path: Path
) -> None:
    peer = Peer(nats_url)  # not started yet: nothing listens on its port
    config = peer.add_box()
    spec = peer.put_blob(make_image(32 * 1024))
    desired = peer.want(config.box_id, spec)
    watch = await reports(config)

    async with running_agent(config, tmp_path, resync_interval_s=1.0) as agent:
        await asyncio.sleep(0.8)
        assert agent.status is None and watch.seen == []

        token = peer.boxes[config.box_id].token
        peer.boxes[config.box_id].token = secrets.token_hex(16)  # 401 for the agent
        peer.start()
        try:
            await asyncio.sleep(0.8)
            assert agent.status is None, "a refused token gives no desired state"
            peer.boxes[config.box_id].token = token
            await watch.state("running", distro_digest=spec.digest, generation=desired.generation)
        finally:
            peer.stop()
