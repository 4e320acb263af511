"""Logging in, refreshing, logging out: what an access token says, and each way a token or a
password is refused."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from guificloud_identity import throttle
from guificloud_identity.models import LoginFailures, Token
from tests.identity.support import (
    PASSWORD,
    Identity,
    bearer,
    identity_service,
    settings_for,
)

pytestmark = pytest.mark.integration


async def test_login_gives_an_access_token_other_services_verify(identity: Identity) -> None:
    member_id, headers = await identity.member("alba")
    group = await identity.group(headers)
    tokens = await identity.login("alba")
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 600
    principal = await identity.verifier().verify(tokens["access_token"])
    assert str(principal.id) == member_id and principal.kind == "member"
    assert principal.login == "alba" and not principal.is_operator
    assert {str(g): set(r) for g, r in principal.groups.items()} == {group: {"group_admin"}}
    assert principal.scopes is None and principal.session_id is not None


async def test_wrong_password_and_unknown_login_get_the_same_401(identity: Identity) -> None:
    await identity.member("berta")
    wrong = await identity.http.post(
        "/api/v1/auth/login", json={"login": "berta", "password": "not-her-password"}
    )
    unknown = await identity.http.post(
        "/api/v1/auth/login", json={"login": "nobody", "password": "not-her-password"}
    )
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert response.json()["detail"] == "wrong login or password"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


async def test_refresh_then_logout_revokes_the_session(identity: Identity) -> None:
    await identity.member("carme")
    tokens = await identity.login("carme")
    refresh = bearer(tokens["refresh_token"])
    again = await identity.http.post("/api/v1/auth/token", headers=refresh)
    assert again.status_code == 200, again.text
    access = bearer(again.json()["access_token"])
    assert (await identity.http.get("/api/v1/members/me", headers=access)).status_code == 200

    assert (await identity.http.post("/api/v1/auth/logout", headers=refresh)).status_code == 204
    refused = await identity.http.post("/api/v1/auth/token", headers=refresh)
    assert refused.status_code == 401 and "revoked" in refused.json()["detail"]
    # The identity service knows its sessions: the session's access token stops at once.
    gone = await identity.http.get("/api/v1/members/me", headers=access)
    assert gone.status_code == 401 and "revoked" in gone.json()["detail"]
    assert 'error="invalid_token"' in gone.headers["WWW-Authenticate"]


async def test_a_disabled_member_cannot_refresh(identity: Identity) -> None:
    member_id, _ = await identity.member("dolors")
    tokens = await identity.login("dolors")
    disable = await identity.http.patch(
        f"/api/v1/members/{member_id}", json={"disabled": True}, headers=identity.operator
    )
    assert disable.status_code == 200, disable.text
    refused = await identity.http.post(
        "/api/v1/auth/token", headers=bearer(tokens["refresh_token"])
    )
    assert refused.status_code == 401 and "disabled" in refused.json()["detail"]
    login = await identity.http.post(
        "/api/v1/auth/login", json={"login": "dolors", "password": PASSWORD}
    )
    assert login.status_code == 401 and "disabled" in login.json()["detail"]


async def test_api_tokens_are_stored_as_hashes_and_carry_their_scopes(identity: Identity) -> None:
    _, headers = await identity.member("eulalia")
    created = await identity.http.post(
        "/api/v1/tokens",
        json={"name": "script", "scopes": ["slices.write"], "expires_in_days": 7},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    token = created.json()["token"]
    _prefix, token_id, secret = token.split("_", 2)
    async with identity.svc.runtime.session_factory() as session:
        row = await session.scalar(select(Token).where(Token.id == token_id))
    assert row is not None
    assert row.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in repr({c: getattr(row, c) for c in Token.__table__.columns.keys()})
    listed = await identity.http.get("/api/v1/tokens", headers=headers)
    assert all("token" not in t for t in listed.json())

    access = await identity.http.post("/api/v1/auth/token", headers=bearer(token))
    assert access.status_code == 200, access.text
    principal = await identity.verifier().verify(access.json()["access_token"])
    assert principal.scopes == {"slices.write"}
    assert principal.may("slices.write") and not principal.may("images.publish")
    # A scoped token cannot do what its scopes leave out, here: change identity records.
    denied = await identity.http.post(
        "/api/v1/groups", json={"name": "x"}, headers=bearer(access.json()["access_token"])
    )
    assert denied.status_code == 403 and "identity.write" in denied.json()["detail"]

    revoked = await identity.http.delete(f"/api/v1/tokens/{token_id}", headers=headers)
    assert revoked.status_code == 204
    refused = await identity.http.post("/api/v1/auth/token", headers=bearer(token))
    assert refused.status_code == 401 and refused.json()["detail"] == "api token revoked"
    forged = f"gcapi_{token_id}_{'x' * 43}"
    refused = await identity.http.post("/api/v1/auth/token", headers=bearer(forged))
    assert refused.status_code == 401 and refused.json()["detail"] == "unknown api token"


async def test_failed_logins_are_slowed_then_the_window_lets_the_owner_in(
    database_url: str, nats_url: str, tmp_path: Path
) -> None:
    settings = settings_for(
        database_url,
        nats_url,
        tmp_path,
        login_failures_per_account=3,
        login_delay_base_s=1.0,
        login_window_s=3,
    )
    async with identity_service(settings) as identity:
        await identity.member("ferran")
        wrong = {"login": "ferran", "password": "guess-guess-guess"}
        statuses = [
            (await identity.http.post("/api/v1/auth/login", json=wrong)).status_code
            for _ in range(3)
        ]
        assert statuses == [401, 401, 401]
        # Blocked now: even the right password is not checked, and the answer says when.
        right = {"login": "ferran", "password": PASSWORD}
        blocked = await identity.http.post("/api/v1/auth/login", json=right)
        assert blocked.status_code == 429, blocked.text
        assert 1 <= int(blocked.headers["Retry-After"]) <= 3
        # Another account from the same address is not blocked by this one's count.
        await identity.member("gemma")
        await asyncio.sleep(int(blocked.headers["Retry-After"]))
        # The block is over: the owner gets in (and the count starts over).
        assert (await identity.http.post("/api/v1/auth/login", json=right)).status_code == 200


async def test_failed_logins_from_one_address_are_slowed_across_accounts(
    database_url: str, nats_url: str, tmp_path: Path
) -> None:
    settings = settings_for(
        database_url, nats_url, tmp_path, login_failures_per_address=4, login_window_s=60
    )
    async with identity_service(settings) as identity:
        statuses = [
            (
                await identity.http.post(
                    "/api/v1/auth/login", json={"login": f"user{n}", "password": "x" * 12}
                )
            ).status_code
            for n in range(5)
        ]
        assert statuses == [401, 401, 401, 401, 429]


async def test_the_delay_doubles_but_never_outlasts_the_window(identity: Identity) -> None:
    settings = identity.settings.model_copy(
        update={"login_failures_per_account": 2, "login_window_s": 60}
    )
    counters = throttle.counters(settings, "hana", None)
    delays = []
    for failure in range(1, 13):
        async with identity.svc.runtime.session_factory() as session:
            await throttle.record_failure(session, counters, settings)
            await session.commit()
            row = await session.get(LoginFailures, "login:hana")
        assert row is not None and row.failures == failure
        if failure >= 2:  # the allowed failures are spent: each one more waits longer
            assert row.blocked_until is not None
            delays.append((row.blocked_until - datetime.now(UTC)).total_seconds())
    assert delays[0] < 1.5 and 3 < delays[2] < delays[4]  # 1 s, 2 s, 4 s ... doubling
    assert max(delays) <= 60  # ... up to the window, never more
