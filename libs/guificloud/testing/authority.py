"""The identity authority of service tests: a :class:`TokenMint` whose keys are published
over HTTP like the identity service's, so services run as real processes verify its tokens
exactly as they verify the identity service's, and group facts published on the real bus.

The session fixture ``authority`` (autouse, in the plugin) starts it and points every
process a test starts at it through the environment (``GUIFICLOUD_IDENTITY_URL``), with
``GUIFICLOUD_ENVIRONMENT=test`` and a strong ``GUIFICLOUD_ADMIN_TOKEN`` (:data:`ADMIN_TOKEN`)::

    token = authority.token(authority.member(groups={group: {"slice_admin"}}))
    await authority.group(nats_url, group, allow_slices=True, quotas=Quotas(slivers=4))
    await authority.revoke(nats_url, principal)   # its access tokens refused at once

Tests of the identity service itself, and the end-to-end tests, run the real one.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from uuid import UUID, uuid4

from guificloud.auth.keys import JWKS_PATH
from guificloud.auth.principal import Principal, Role
from guificloud.bus.connection import Bus
from guificloud.events.envelope import Envelope, Event
from guificloud.events.identity import GroupChanged, GroupDeleted, Quotas, TokenRevoked
from guificloud.streams import IDENTITY
from guificloud.testing.tokens import TokenMint, bearer

ADMIN_TOKEN = "t3st-" + secrets.token_urlsafe(32)
"""The admin token of every process a test session starts (an operator's machine
credential: strong, as outside development it must be)."""

__all__ = ["ADMIN_TOKEN", "TestAuthority", "bearer", "serving_authority"]


class TestAuthority(TokenMint):
    __test__ = False  # not a test class, whatever pytest thinks of its name

    url: str = ""

    def member(  # type: ignore[override]
        self,
        *,
        login: str | None = None,
        is_operator: bool = False,
        groups: Mapping[UUID, Iterable[Role]] | None = None,
        zones: Iterable[UUID] = (),
        scopes: Iterable[str] | None = None,
        kind: str = "member",
    ) -> Principal:
        """A caller with a session of its own (so it can be revoked)."""
        principal = TokenMint.member(
            login=login or f"member-{uuid4().hex[:8]}",
            is_operator=is_operator,
            groups=groups,
            zones=zones,
            scopes=scopes,
            kind=kind,
        )
        return Principal(**{**principal.__dict__, "session_id": f"gcsid_{uuid4().hex}"})

    def headers(self, principal: Principal, **token: Any) -> dict[str, str]:
        """``Authorization`` for ``principal``'s fresh access token."""
        return bearer(self.token(principal, **token))

    def operator(self) -> Principal:
        return self.member(login="operator", is_operator=True)

    async def _publish(self, nats_url: str, event: Event) -> None:
        bus = await Bus.connect(nats_url, name="test-authority")
        try:
            await bus.declare((IDENTITY,))
            await bus.publish(event.subject(), Envelope.wrap(event, source="identity"))
        finally:
            await bus.close()

    async def group(
        self,
        nats_url: str,
        group_id: UUID,
        *,
        name: str | None = None,
        allow_nodes: bool = False,
        allow_slices: bool = False,
        quotas: Quotas | None = None,
    ) -> None:
        """Tell the bus a group's state, as the identity service does on every change."""
        await self._publish(
            nats_url,
            GroupChanged(
                group_id=group_id,
                name=name or f"group-{str(group_id)[:8]}",
                allow_nodes=allow_nodes,
                allow_slices=allow_slices,
                quotas=quotas or Quotas(),
            ),
        )

    async def delete_group(self, nats_url: str, group_id: UUID) -> None:
        await self._publish(nats_url, GroupDeleted(group_id=group_id))

    async def revoke(self, nats_url: str, principal: Principal) -> None:
        """Revoke ``principal``'s session, as a logout does."""
        assert principal.session_id is not None, "a principal of member() has a session"
        await self._publish(
            nats_url,
            TokenRevoked(token_id=principal.session_id, account_id=principal.id, kind="refresh"),
        )


@contextmanager
def serving_authority() -> Iterator[TestAuthority]:
    """A :class:`TestAuthority` with its JWKS at ``<url>/api/v1/auth/jwks.json`` until the
    block ends."""
    authority = TestAuthority()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != JWKS_PATH:
                self.send_error(404)
                return
            body = json.dumps(authority.jwks()).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: Any) -> None:
            """Quiet: one line per key fetch is noise in test output."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    authority.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="test-authority", daemon=True)
    thread.start()
    try:
        yield authority
    finally:
        server.shutdown()
        server.server_close()
