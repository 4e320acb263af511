"""The shared verification every service uses: tokens of a test key set, a FastAPI app with
the dependencies, no servers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping
from typing import Annotated, Any
from uuid import UUID, uuid4

import httpx
import pytest
import pytest_asyncio
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse

from guificloud.auth import (
    OperatorDep,
    Principal,
    PrincipalDep,
    TokenRejected,
    install_verifier,
    require_role,
    require_scope,
)
from guificloud.auth.keys import KeySet
from guificloud.auth.verifier import Verifier
from guificloud.errors import DomainError
from guificloud.testing.tokens import TokenMint, bearer

pytestmark = pytest.mark.unit

SliceManager = Annotated[Principal, Depends(require_role("slice_admin", "group_admin"))]
Publisher = Annotated[Principal, Depends(require_scope("images.publish"))]


def _app(mint: TokenMint) -> FastAPI:
    app = FastAPI()
    install_verifier(app, mint.verifier())

    @app.exception_handler(DomainError)
    async def refused(_request: Request, exc: DomainError) -> JSONResponse:
        return JSONResponse({"detail": exc.message}, status_code=exc.status_code)

    @app.get("/me")
    async def me(principal: PrincipalDep) -> dict[str, str]:
        return {"login": principal.login}

    @app.post("/groups/{group_id}/slices")
    async def create_slice(group_id: UUID, principal: SliceManager) -> dict[str, str]:
        return {"by": principal.login}

    @app.post("/ops")
    async def ops(principal: OperatorDep) -> dict[str, str]:
        return {"by": principal.login}

    @app.post("/images")
    async def publish(
        principal: Publisher,
    ) -> dict[str, str]:
        return {"by": principal.login}

    return app


@pytest_asyncio.fixture
async def served() -> AsyncIterator[tuple[TokenMint, httpx.AsyncClient]]:
    mint = TokenMint()
    transport = httpx.ASGITransport(app=_app(mint))
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        yield mint, client


async def test_anonymous_gets_401_with_a_bearer_challenge(
    served: tuple[TokenMint, httpx.AsyncClient],
) -> None:
    _, client = served
    response = await client.get("/me")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="guifi-cloud"'
    basic = await client.get("/me", headers={"Authorization": "Basic dXNlcjpwdw=="})
    assert basic.status_code == 401


async def test_roles_operators_and_scopes(served: tuple[TokenMint, httpx.AsyncClient]) -> None:
    mint, client = served
    group, other = uuid4(), uuid4()
    researcher = mint.token(mint.member(login="r", groups={group: {"slice_admin"}}))
    technician = mint.token(mint.member(login="t", groups={group: {"node_admin"}}))
    outsider = mint.token(mint.member(login="o", groups={other: {"group_admin"}}))
    operator = mint.token(mint.member(login="op", is_operator=True))

    assert (await client.post(f"/groups/{group}/slices", headers=bearer(researcher))).json() == {
        "by": "r"
    }
    for token in (technician, outsider):
        refused = await client.post(f"/groups/{group}/slices", headers=bearer(token))
        assert refused.status_code == 403
        assert "slice_admin or group_admin" in refused.json()["detail"]
    assert (
        await client.post(f"/groups/{group}/slices", headers=bearer(operator))
    ).status_code == 200
    bad_group = await client.post("/groups/nope/slices", headers=bearer(operator))
    assert bad_group.status_code == 422

    assert (await client.post("/ops", headers=bearer(researcher))).status_code == 403
    assert (await client.post("/ops", headers=bearer(operator))).status_code == 200

    scoped = mint.token(mint.member(login="ci", kind="tool", scopes={"images.publish"}))
    unscoped = mint.token(mint.member(login="ci2", kind="tool", scopes={"slices.write"}))
    wildcard = mint.token(mint.member(login="ci3", kind="tool", scopes={"images.*"}))
    assert (await client.post("/images", headers=bearer(scoped))).status_code == 200
    assert (await client.post("/images", headers=bearer(wildcard))).status_code == 200
    refused = await client.post("/images", headers=bearer(unscoped))
    assert refused.status_code == 403 and "images.publish" in refused.json()["detail"]


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda m, p: m.token(p, issued_at=int(time.time()) - 3600), "expired"),
        (lambda m, p: m.token(p, audience="someone-else"), "wrong_audience"),
        (lambda m, p: TokenMint().token(p), "unknown_key"),
        (lambda m, p: m.token(p)[:-6] + "AAAAAA", "forged"),
        (lambda m, p: "abc.def", "malformed"),
        (lambda m, p: "gcapi_0123456789abcdef_" + "s" * 43, "malformed"),
    ],
)
async def test_each_bad_token_is_rejected_with_its_reason(make: object, reason: str) -> None:
    mint = TokenMint()
    token = make(mint, mint.member())  # type: ignore[operator]
    with pytest.raises(TokenRejected) as rejected:
        await mint.verifier().verify(token)
    assert rejected.value.reason == reason


async def test_the_leeway_accepts_a_token_just_expired() -> None:
    mint = TokenMint()
    token = mint.token(mint.member(), issued_at=int(time.time()) - 610)
    assert (await mint.verifier().verify(token)).login == "someone"


async def test_rotation_is_followed_and_unknown_keys_refetched_at_most_so_often() -> None:
    mint = TokenMint()
    old = mint.current
    now = [0.0]
    verifier = Verifier(KeySet(mint._fetch, refresh_s=300, min_refetch_s=10, clock=lambda: now[0]))
    await verifier.verify(mint.token(mint.member()))
    assert mint.fetches == 1
    new = mint.rotate()
    token = mint.token(mint.member(), key=new)
    with pytest.raises(TokenRejected):  # fetched just now: not again so soon
        await verifier.verify(token)
    now[0] = 11.0
    await verifier.verify(token)  # the unknown key id makes it fetch again
    assert mint.fetches == 2
    await verifier.verify(mint.token(mint.member(), key=old))  # still published
    mint.retire(old.kid)
    now[0] = 400.0  # the periodic refresh drops a retired key
    with pytest.raises(TokenRejected) as rejected:
        await verifier.verify(mint.token(mint.member(), key=old))
    assert rejected.value.reason == "unknown_key" and mint.fetches == 3


async def test_callers_during_the_first_fetch_wait_for_it() -> None:
    """A burst of requests when a service starts: the first fetches the keys, the others
    wait for that fetch instead of being told the keys are unavailable (503)."""
    mint = TokenMint()

    async def slow() -> Mapping[str, Any]:
        await asyncio.sleep(0.1)
        return await mint._fetch()

    verifier = Verifier(KeySet(slow, min_refetch_s=5))
    tokens = [mint.token(mint.member(login=f"m{i}")) for i in range(5)]
    found = await asyncio.gather(*(verifier.verify(t) for t in tokens))
    assert [p.login for p in found] == [f"m{i}" for i in range(5)]
    assert mint.fetches == 1
