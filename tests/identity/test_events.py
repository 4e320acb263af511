"""What other services keep read models from: the identity events on the IDENTITY stream,
published through the outbox, without contact data."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import nats
import pytest
from nats.js.errors import NotFoundError

from tests.identity.support import Identity

pytestmark = pytest.mark.integration


async def _last(nats_url: str, subject: str, about: str, timeout_s: float = 30.0) -> dict[str, Any]:
    """The last event on ``subject`` that is about ``about``, once there is one.

    Every event on the subject is read, not only the last one: the first operator's
    ``identity.member.created`` waits in the outbox from before the service started and the
    relay publishes it after its grace period, so on a slow machine it can land after the
    events the test caused."""
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        deadline = time.monotonic() + timeout_s
        while True:
            found: dict[str, Any] | None = None
            seq = 1
            while True:
                try:
                    message = await js.get_msg("IDENTITY", seq=seq, subject=subject, next=True)
                except NotFoundError:
                    break
                envelope: dict[str, Any] = json.loads(message.data or b"{}")
                if about in json.dumps(envelope["data"]):
                    found = envelope
                assert message.seq is not None
                seq = message.seq + 1
            if found is not None:
                return found
            assert time.monotonic() < deadline, f"no {subject} about {about}"
            await asyncio.sleep(0.1)
    finally:
        await nc.close()


async def test_group_membership_and_token_changes_are_published(
    identity: Identity, nats_url: str
) -> None:
    member_id, admin = await identity.member("uxia", email="uxia@example.net")
    group = await identity.group(admin)
    await identity.http.put(
        f"/api/v1/groups/{group}/quotas", json={"slivers": 4}, headers=identity.operator
    )
    tokens = await identity.login("uxia")
    await identity.http.post(
        "/api/v1/auth/logout", headers={"Authorization": f"Bearer {tokens['refresh_token']}"}
    )

    created = await _last(nats_url, "identity.member.created", "uxia")
    assert created["data"]["login"] == "uxia" and "email" not in json.dumps(created)
    membership = await _last(nats_url, "identity.membership.changed", member_id)
    assert membership["data"] == {
        "group_id": group,
        "account_id": member_id,
        "member": True,
        "roles": ["group_admin"],
    }
    changed = await _last(nats_url, "identity.group.changed", group)
    assert changed["data"]["quotas"]["slivers"] == 4
    revoked = await _last(nats_url, "identity.token.revoked", member_id)
    assert revoked["data"]["kind"] == "refresh" and revoked["data"]["account_id"] == member_id
