"""The identity service in the test's loop, with a first operator, and helpers to log in and
to make members and groups through its API."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx

from guificloud.auth.claims import AUDIENCE, ISSUER
from guificloud.auth.keys import KeySet
from guificloud.auth.verifier import Verifier
from guificloud.testing.inprocess import InProcessService, service_in_process
from guificloud_identity.operator import bootstrap_operator
from guificloud_identity.service import DEFINITION
from guificloud_identity.settings import IdentitySettings
from guificloud_identity.signing_keys import KeyStore

OPERATOR = "operator"
OPERATOR_PASSWORD = "operator-password-for-tests"
PASSWORD = "a-member-password"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Identity:
    svc: InProcessService
    settings: IdentitySettings
    http: httpx.AsyncClient
    operator: dict[str, str]

    async def login(self, login: str, password: str = PASSWORD) -> dict[str, Any]:
        response = await self.http.post(
            "/api/v1/auth/login", json={"login": login, "password": password}
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def member(self, login: str | None = None, **fields: Any) -> tuple[str, dict[str, str]]:
        """A new member (made by the operator), logged in: its id and auth headers."""
        login = login or f"m{uuid4().hex[:10]}"
        response = await self.http.post(
            "/api/v1/members",
            json={"login": login, "display_name": login, "password": PASSWORD, **fields},
            headers=self.operator,
        )
        assert response.status_code == 201, response.text
        tokens = await self.login(login)
        return str(response.json()["id"]), bearer(tokens["access_token"])

    async def group(self, admin: dict[str, str], name: str | None = None) -> str:
        response = await self.http.post(
            "/api/v1/groups", json={"name": name or f"g{uuid4().hex[:8]}"}, headers=admin
        )
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    async def relogin(self, login: str) -> dict[str, str]:
        """Fresh headers: a new token carries the roles given since the last one."""
        return bearer((await self.login(login))["access_token"])

    def verifier(self, **key_set: float) -> Verifier:
        """A verifier as another service has one: the key set fetched over HTTP."""

        async def fetch() -> dict[str, Any]:
            response = await self.http.get("/api/v1/auth/jwks.json")
            response.raise_for_status()
            document: dict[str, Any] = response.json()
            return document

        return Verifier(KeySet(fetch, **key_set))

    async def sign(self, **claims: Any) -> str:
        """A token signed with the service's own current key, with claims of the test's."""
        async with self.svc.runtime.session_factory() as session:
            key = await KeyStore(self.settings).current(session)
            await session.commit()
        now = int(time.time())
        base = {"iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 600, "kind": "member"}
        token: str = key.sign({**base, **claims})
        return token


def settings_for(
    database_url: str, nats_url: str, tmp_path: Path, **extra: Any
) -> IdentitySettings:
    return IdentitySettings(
        database_url=database_url, nats_url=nats_url, data_dir=tmp_path, **extra
    )


@contextlib.asynccontextmanager
async def identity_service(settings: IdentitySettings) -> AsyncIterator[Identity]:
    await bootstrap_operator(settings, login=OPERATOR, password=OPERATOR_PASSWORD)
    async with service_in_process(DEFINITION, settings) as svc:
        transport = httpx.ASGITransport(app=svc.app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://identity") as http:
            response = await http.post(
                "/api/v1/auth/login", json={"login": OPERATOR, "password": OPERATOR_PASSWORD}
            )
            assert response.status_code == 200, response.text
            yield Identity(svc, settings, http, bearer(response.json()["access_token"]))
