"""What the CLI's and the agent's transports retry, and that a POST keeps one key over its
retries (the server side of that key is tested against the real services)."""

from __future__ import annotations

import httpx
import pytest

from guificloud.retries import AsyncRetryingTransport, Backoff, RetryingTransport

pytestmark = pytest.mark.unit

KEY = "Idempotency-Key"
NOW = Backoff(attempts=4, first_s=0.0)


class Flaky:
    """Answers ``failures`` (an exception to raise, or a status) in turn, then 201."""

    def __init__(self, *failures: int | Exception) -> None:
        self.failures = list(failures)
        self.seen: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        if self.failures:
            failure = self.failures.pop(0)
            if isinstance(failure, Exception):
                raise failure
            return httpx.Response(failure)
        return httpx.Response(201)

    @property
    def keys(self) -> list[str | None]:
        return [r.headers.get(KEY) for r in self.seen]


def client(flaky: Flaky) -> httpx.Client:
    return httpx.Client(
        transport=RetryingTransport(httpx.MockTransport(flaky), NOW), base_url="http://x"
    )


def test_a_post_keeps_its_key_over_its_retries() -> None:
    flaky = Flaky(httpx.ConnectError("refused"), 503, httpx.ReadError("lost"))
    with client(flaky) as http:
        assert http.post("/api/v1/nodes", json={"name": "Vic"}).status_code == 201
        assert http.post("/api/v1/nodes", json={"name": "Vic"}).status_code == 201
    first, *retries, second = flaky.keys
    assert first and retries == [first] * 3 and second not in (None, first)


def test_a_key_given_by_the_caller_is_kept() -> None:
    flaky = Flaky(502)
    with client(flaky) as http:
        http.post("/api/v1/nodes", json={}, headers={KEY: "mine"})
    assert flaky.keys == ["mine", "mine"]


def test_what_is_not_safe_to_repeat_is_sent_once() -> None:
    flaky = Flaky(503, 503)
    with client(flaky) as http:
        assert http.patch("/api/v1/nodes/1", json={"name": "x"}).status_code == 503
        assert http.post("/api/v1/cnml", content=iter([b"<cnml/>"])).status_code == 503
    assert len(flaky.seen) == 2


def test_a_refusal_is_not_retried_and_retries_end() -> None:
    flaky = Flaky(409, 503, 503, 503, 503)
    with client(flaky) as http:
        assert http.post("/api/v1/zones", json={}).status_code == 409
        assert http.get("/api/v1/zones").status_code == 503
    assert len(flaky.seen) == 1 + NOW.attempts


async def test_the_async_transport_retries_alike() -> None:
    flaky = Flaky(httpx.ConnectError("refused"), 504)
    transport = AsyncRetryingTransport(httpx.MockTransport(flaky), NOW)
    async with httpx.AsyncClient(transport=transport, base_url="http://x") as http:
        assert (await http.post("/api/v1/nodes", json={})).status_code == 201
    assert len(set(flaky.keys)) == 1 and len(flaky.seen) == 3
