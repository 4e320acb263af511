"""Every service checks who calls, offline: access tokens against the identity authority's
published keys (fetched over HTTP), the deployment's admin token as an operator, revoked
sessions refused as their revocation arrives on the bus. Shown on a real registry process
through an operator-only route (the dead letters)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from guificloud.settings import ServiceSettings
from guificloud.testing.authority import ADMIN_TOKEN, TestAuthority, bearer
from guificloud.testing.processes import ServiceProcess
from guificloud.testing.tokens import TokenMint

pytestmark = pytest.mark.integration

OPERATORS_ONLY = "/api/v1/deadletters"


@pytest.fixture
def registry(database_url: str, nats_url: str, tmp_path: Path) -> Iterator[httpx.Client]:
    proc = ServiceProcess(
        "guificloud_registry",
        log_dir=tmp_path,
        env={"GUIFICLOUD_DATABASE_URL": database_url, "GUIFICLOUD_NATS_URL": nats_url},
    )
    proc.start()
    try:
        with httpx.Client(base_url=proc.url, timeout=30) as client:
            yield client
    finally:
        proc.stop()


def test_no_credentials_is_a_401_with_a_challenge(registry: httpx.Client) -> None:
    r = registry.get(OPERATORS_ONLY)
    assert r.status_code == 401, r.text
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    assert "authentication required" in r.json()["detail"]


def test_the_admin_token_and_an_operators_token_pass(
    registry: httpx.Client, authority: TestAuthority
) -> None:
    assert registry.get(OPERATORS_ONLY, headers=bearer(ADMIN_TOKEN)).status_code == 200
    r = registry.get(OPERATORS_ONLY, headers=authority.headers(authority.operator()))
    assert r.status_code == 200, r.text


def test_a_member_is_refused_naming_what_is_missing(
    registry: httpx.Client, authority: TestAuthority
) -> None:
    r = registry.get(OPERATORS_ONLY, headers=authority.headers(authority.member(login="ana")))
    assert r.status_code == 403, r.text
    assert "operators only" in r.json()["detail"]


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda a: a.token(a.operator(), issued_at=int(time.time()) - 3600), "expired"),
        (lambda a: a.token(a.operator(), audience="another-tool"), "audience"),
        (lambda a: TokenMint().token(a.operator()), "unknown key"),
        (lambda a: a.token(a.operator())[:-4] + "AAAA", "forged"),
        (lambda a: "gcapi_0123456789abcdef", "not an access token"),
    ],
    ids=["expired", "wrong-audience", "unknown-key", "forged", "api-token"],
)
def test_a_bad_token_is_a_401_saying_which(
    registry: httpx.Client, authority: TestAuthority, make: object, says: str
) -> None:
    token = make(authority)  # type: ignore[operator]
    r = registry.get(OPERATORS_ONLY, headers=bearer(token))
    assert r.status_code == 401, r.text
    assert says in r.json()["detail"]
    assert 'error="invalid_token"' in r.headers["WWW-Authenticate"]


async def test_a_revoked_session_is_refused_at_once(
    registry: httpx.Client, authority: TestAuthority, nats_url: str
) -> None:
    operator = authority.operator()
    headers = authority.headers(operator)
    assert registry.get(OPERATORS_ONLY, headers=headers).status_code == 200
    await authority.revoke(nats_url, operator)
    deadline = time.monotonic() + 10
    while (r := registry.get(OPERATORS_ONLY, headers=headers)).status_code == 200:
        assert time.monotonic() < deadline, "the revocation never reached the registry"
        time.sleep(0.1)
    assert r.status_code == 401
    assert "revoked" in r.json()["detail"]
    other = authority.headers(authority.operator())
    assert registry.get(OPERATORS_ONLY, headers=other).status_code == 200


@pytest.mark.parametrize(
    "token",
    ["dev-admin-token", "x" * 64, "short-but-not-a-placeholder", "0123456789abcdef" * 2],
)
def test_a_weak_admin_token_is_refused_outside_development(token: str) -> None:
    with pytest.raises(ValueError, match="GUIFICLOUD_ADMIN_TOKEN"):
        ServiceSettings(environment="test", admin_token=token)
    with pytest.raises(ValueError, match="GUIFICLOUD_ADMIN_TOKEN"):
        ServiceSettings(environment="production", admin_token=token)
    assert ServiceSettings(environment="development", admin_token=token).admin_token == token


def test_the_default_environment_is_not_development(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GUIFICLOUD_ENVIRONMENT", raising=False)
    monkeypatch.setenv("GUIFICLOUD_ADMIN_TOKEN", ADMIN_TOKEN)
    assert ServiceSettings().environment == "production"
    monkeypatch.delenv("GUIFICLOUD_ADMIN_TOKEN")
    with pytest.raises(ValueError, match="placeholder"):
        ServiceSettings()
