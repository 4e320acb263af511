"""Access tokens refused, each with its reason; key rotation picked up by a verifier that
keeps running; no password in any log line."""

from __future__ import annotations

import time
from uuid import uuid4

import pytest
from structlog.testing import capture_logs

from guificloud.auth.signer import SigningKey
from guificloud.auth.verifier import TokenRejected
from tests.identity.support import PASSWORD, Identity, bearer

pytestmark = pytest.mark.integration


async def _refusal(identity: Identity, token: str) -> str:
    response = await identity.http.get("/api/v1/members/me", headers=bearer(token))
    assert response.status_code == 401, response.text
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    detail: str = response.json()["detail"]
    return detail


async def test_each_bad_token_is_refused_saying_which(identity: Identity) -> None:
    member_id, headers = await identity.member("nuria")
    good = headers["Authorization"].removeprefix("Bearer ")
    now = int(time.time())
    expired = await identity.sign(sub=member_id, login="nuria", iat=now - 900, exp=now - 120)
    assert "expired" in await _refusal(identity, expired)

    other_audience = await identity.sign(sub=member_id, login="nuria", aud="another-tool")
    assert "another audience" in await _refusal(identity, other_audience)

    header, payload, signature = good.split(".")
    altered = f"{header}.{payload}.{signature[:-4]}{'AAAA' if signature[-4:] != 'AAAA' else 'BBBB'}"
    assert "does not verify" in await _refusal(identity, altered)

    # Signed by a key the service never published, under a key id it does not know.
    stranger = SigningKey.generate()
    now = int(time.time())
    unknown = stranger.sign(
        {
            "iss": "guifi-cloud-identity",
            "aud": "guifi-cloud",
            "sub": member_id,
            "kind": "member",
            "iat": now,
            "exp": now + 600,
        }
    )
    assert "unknown key" in await _refusal(identity, unknown)

    assert "malformed" in await _refusal(identity, "not-a-token")
    anonymous = await identity.http.get("/api/v1/members/me")
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"] == 'Bearer realm="guifi-cloud"'


async def test_a_rotated_key_is_picked_up_by_a_running_verifier(identity: Identity) -> None:
    verifier = identity.verifier(refresh_s=3600, min_refetch_s=0)
    await identity.member("oriol")
    before = (await identity.login("oriol"))["access_token"]
    assert (await verifier.verify(before)).login == "oriol"

    rotated = await identity.http.post("/api/v1/auth/keys/rotate", headers=identity.operator)
    assert rotated.status_code == 201, rotated.text
    after = (await identity.login("oriol"))["access_token"]
    # A token of the new key: the verifier fetches the key set again, by itself.
    assert (await verifier.verify(after)).login == "oriol"
    # A token of the old key: still published until the tokens it signed have expired.
    assert (await verifier.verify(before)).login == "oriol"
    kids = [k["kid"] for k in (await identity.http.get("/api/v1/auth/jwks.json")).json()["keys"]]
    assert kids[0] == rotated.json()["kid"] and len(kids) == 2


async def test_only_operators_rotate_keys(identity: Identity) -> None:
    _, headers = await identity.member()
    refused = await identity.http.post("/api/v1/auth/keys/rotate", headers=headers)
    assert refused.status_code == 403 and "operators only" in refused.json()["detail"]


async def test_a_verifier_refuses_an_unknown_key_without_refetching_each_time(
    identity: Identity,
) -> None:
    verifier = identity.verifier(refresh_s=3600, min_refetch_s=60)
    await identity.member("pau")
    token = (await identity.login("pau"))["access_token"]
    await verifier.verify(token)
    fetched = verifier.keys._fetched_at
    stranger = SigningKey.generate()
    for _ in range(3):
        with pytest.raises(TokenRejected) as refused:
            await verifier.verify(stranger.sign({"sub": str(uuid4())}))
        assert refused.value.reason == "unknown_key"
    assert verifier.keys._fetched_at == fetched


async def test_no_password_reaches_the_logs(
    identity: Identity, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = "a-wrong-password-123"
    with capture_logs() as logs:
        await identity.member("quim")
        await identity.http.post("/api/v1/auth/login", json={"login": "quim", "password": wrong})
        await identity.login("quim")
    printed = capsys.readouterr()
    everything = repr(logs) + printed.out + printed.err
    assert any(e.get("event") == "identity.logged_in" for e in logs)  # logging was on
    assert any(e.get("event") == "identity.login_failed" for e in logs)
    assert PASSWORD not in everything and wrong not in everything
