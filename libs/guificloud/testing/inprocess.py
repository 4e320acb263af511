"""A service run in the test's own event loop, on the test session's real NATS and PostgreSQL.

The same ``Runtime.bootstrap`` and :func:`guificloud.runtime.running` as ``serve``: migrations,
streams, consumers, outbox relay and background loops all run; only the HTTP server is
replaced by an ``httpx`` client bound to the ASGI app. Handlers and state transitions get
fast focused tests this way, beside the tests that start services as processes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI

from guificloud.runtime import Runtime, ServiceDefinition, SettingsT, running


@dataclass(frozen=True)
class InProcessService:
    runtime: Runtime[Any, Any]
    app: FastAPI
    client: httpx.AsyncClient


@contextlib.asynccontextmanager
async def service_in_process(
    definition: ServiceDefinition[SettingsT, Any], settings: SettingsT
) -> AsyncIterator[InProcessService]:
    """Bootstraps the service from ``settings`` (give it the test's ``database_url`` and
    ``nats_url``), runs its consumers and loops until the block ends, then closes it all."""
    runtime = await Runtime.bootstrap(definition, settings)
    try:
        async with running(runtime, asyncio.Event()):
            app = definition.create_app(runtime)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url=f"http://{definition.name}", timeout=30
            ) as client:
                yield InProcessService(runtime, app, client)
    finally:
        await runtime.close()
