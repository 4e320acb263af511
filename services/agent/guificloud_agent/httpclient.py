"""The HTTP client of agents: one per process is enough, even for a fleet of simulated boxes.

httpcore's pool scans every waiting request against every connection each time one ends, so
hundreds of boxes asking at once would cost quadratic time. A gate in front of the pool lets
only ``max_in_flight`` requests in (held until the response is read or closed); the others
wait their turn cheaply. With ``backoff``, POSTs carry an ``Idempotency-Key`` and what is
safe to retry is retried (:mod:`guificloud.retries`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx

from guificloud.retries import AsyncRetryingTransport, Backoff
from guificloud.tls import verify

MAX_IN_FLIGHT = 32


class _ReleasingStream(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream, release: Callable[[], None]) -> None:
        self._inner = inner
        self._release: Callable[[], None] | None = release

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        finally:
            release, self._release = self._release, None
            if release is not None:
                release()


class GatedTransport(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport, max_in_flight: int) -> None:
        self._inner = inner
        self._gate = asyncio.Semaphore(max_in_flight)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await self._gate.acquire()
        try:
            response = await self._inner.handle_async_request(request)
        except BaseException:
            self._gate.release()
            raise
        assert isinstance(response.stream, httpx.AsyncByteStream)
        response.stream = _ReleasingStream(response.stream, self._gate.release)
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


def http_client(
    max_in_flight: int = MAX_IN_FLIGHT, *, backoff: Backoff | None = None, ca: Path | None = None
) -> httpx.AsyncClient:
    """No pool timeout: with many boxes, a download waits for its turn instead of failing.
    ``ca``: the CA https peers are verified by (see :mod:`guificloud.tls`)."""
    limits = httpx.Limits(max_connections=max_in_flight, max_keepalive_connections=max_in_flight)
    transport: httpx.AsyncBaseTransport = GatedTransport(
        httpx.AsyncHTTPTransport(limits=limits, verify=verify(ca)), max_in_flight
    )
    if backoff is not None:
        transport = AsyncRetryingTransport(transport, backoff)
    return httpx.AsyncClient(
        transport=transport,
        timeout=httpx.Timeout(30.0, connect=5.0, pool=None),
    )
