"""HTTP transports that retry what is safe to retry: the CLI's and the agent's.

A POST gets an ``Idempotency-Key`` (a new uuid4 per request, the same on each of its
retries), so a retry after a lost response is answered with the first response instead of
creating twice (see :mod:`guificloud.idempotency`). GET, HEAD, PUT, DELETE, OPTIONS and
POSTs with a key are retried on connection errors and on 502, 503 and 504, with exponential
back-off; PATCH is not, nor is a body that cannot be sent again (a stream).
"""

from __future__ import annotations

import asyncio
import random
import ssl
import time
from dataclasses import dataclass
from uuid import uuid4

import httpx

IDEMPOTENCY_HEADER = "Idempotency-Key"
RETRY_STATUSES = frozenset({502, 503, 504})
REPEATABLE_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


@dataclass(frozen=True)
class Backoff:
    attempts: int = 5
    first_s: float = 0.2
    max_s: float = 5.0

    def delay(self, attempt: int) -> float:
        """Seconds before retry ``attempt + 1``: doubling, capped, with jitter so that many
        clients do not come back at the same instant."""
        return min(self.max_s, self.first_s * 2.0**attempt) * random.uniform(0.5, 1.0)


def prepare(request: httpx.Request) -> bool:
    """Give a POST its key; whether ``request`` may be sent again."""
    if request.method == "POST" and IDEMPOTENCY_HEADER not in request.headers:
        request.headers[IDEMPOTENCY_HEADER] = str(uuid4())
    resendable = isinstance(request.stream, httpx.ByteStream)
    return resendable and (
        request.method in REPEATABLE_METHODS or IDEMPOTENCY_HEADER in request.headers
    )


def _again(retryable: bool, attempt: int, backoff: Backoff, status: int | None) -> bool:
    last = attempt == backoff.attempts - 1
    return retryable and not last and (status is None or status in RETRY_STATUSES)


class RetryingTransport(httpx.BaseTransport):
    def __init__(
        self,
        inner: httpx.BaseTransport | None = None,
        backoff: Backoff | None = None,
        *,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        """``verify``: how the default inner transport checks https peers
        (:func:`guificloud.tls.verify`)."""
        self._inner = inner or httpx.HTTPTransport(verify=verify)
        self._backoff = backoff or Backoff()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        retryable = prepare(request)
        for attempt in range(self._backoff.attempts):
            try:
                response = self._inner.handle_request(request)
            except httpx.TransportError:
                if not _again(retryable, attempt, self._backoff, None):
                    raise
            else:
                if not _again(retryable, attempt, self._backoff, response.status_code):
                    return response
                response.close()
            time.sleep(self._backoff.delay(attempt))
        raise AssertionError("unreachable")

    def close(self) -> None:
        self._inner.close()


class AsyncRetryingTransport(httpx.AsyncBaseTransport):
    def __init__(
        self, inner: httpx.AsyncBaseTransport | None = None, backoff: Backoff | None = None
    ) -> None:
        self._inner = inner or httpx.AsyncHTTPTransport()
        self._backoff = backoff or Backoff()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        retryable = prepare(request)
        for attempt in range(self._backoff.attempts):
            try:
                response = await self._inner.handle_async_request(request)
            except httpx.TransportError:
                if not _again(retryable, attempt, self._backoff, None):
                    raise
            else:
                if not _again(retryable, attempt, self._backoff, response.status_code):
                    return response
                await response.aclose()
            await asyncio.sleep(self._backoff.delay(attempt))
        raise AssertionError("unreachable")

    async def aclose(self) -> None:
        await self._inner.aclose()
