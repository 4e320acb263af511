"""Signing keys in the database: sealed where a secret is set (required in production), and
still signing after a restart of the service."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from guificloud.testing.authority import ADMIN_TOKEN
from guificloud_identity.models import StoredKey
from guificloud_identity.settings import IdentitySettings
from tests.identity.support import identity_service, settings_for

pytestmark = pytest.mark.integration

SECRET = "s" * 40


def test_production_needs_a_sealing_secret() -> None:
    with pytest.raises(ValueError, match="SIGNING_KEY_SECRET"):
        IdentitySettings(environment="production", admin_token=ADMIN_TOKEN)
    assert IdentitySettings(
        environment="production", admin_token=ADMIN_TOKEN, signing_key_secret=SECRET
    ).signing_key_secret


async def test_sealed_keys_sign_across_restarts(
    database_url: str, nats_url: str, tmp_path: Path
) -> None:
    settings = settings_for(database_url, nats_url, tmp_path, signing_key_secret=SECRET)
    async with identity_service(settings) as identity:
        first = (await identity.http.get("/api/v1/auth/jwks.json")).json()["keys"]
        async with identity.svc.runtime.session_factory() as session:
            row = (await session.scalars(select(StoredKey))).one()
        assert row.sealed and len(row.private_key) > 32  # nonce + sealed bytes + tag
    async with identity_service(settings) as identity:  # a restart: same key, still signs
        assert (await identity.http.get("/api/v1/auth/jwks.json")).json()["keys"] == first
        await identity.member("vera")
        token = (await identity.login("vera"))["access_token"]
        assert (await identity.verifier().verify(token)).login == "vera"
