"""A service's runtime and HTTP app in the test's process, on the real NATS and PostgreSQL.

The registry is the service: the simplest one, with real migrations, so ``/readyz`` can be
fully ready. Requests go through ``httpx.ASGITransport``: no port, no process.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
from fastapi import FastAPI

from guificloud.runtime import Runtime
from guificloud_registry.service import DEFINITION
from guificloud_registry.settings import RegistrySettings

ADMIN_TOKEN = "t-admin-token-for-tests"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@dataclass
class Served:
    runtime: Runtime
    app: FastAPI
    http: httpx.AsyncClient


@contextlib.asynccontextmanager
async def served_registry(database_url: str, nats_url: str) -> AsyncIterator[Served]:
    settings = RegistrySettings(
        database_url=database_url,
        nats_url=nats_url,
        admin_token=ADMIN_TOKEN,
        environment="test",
    )
    runtime = await Runtime.bootstrap(DEFINITION, settings)
    try:
        app = DEFINITION.create_app(runtime)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://registry") as http:
            yield Served(runtime, app, http)
    finally:
        await runtime.close()
