"""Idempotency keys: a retried POST answers what the first one answered and never creates twice.

A client sends ``Idempotency-Key: <a new uuid4>`` with a creating request, and the same key
with each retry of it. The route claims the key in the transaction that creates, and stores
its response in that same transaction (table in :mod:`guificloud.db.idempotency`), so:

- a retry after a commit whose response was lost gets the stored response (same status,
  headers and body, plus ``Idempotent-Replayed: true``) and creates nothing;
- a retry while the first request still runs waits for it (the first transaction holds the
  key's row) and then replays; past ``idempotency_wait_s`` it gets 409;
- the key sent with another request (method, path or body) is refused with 422;
- a request that fails stores nothing (its transaction rolls back): its retry runs again.

Keys are scoped by caller and route and kept ``idempotency_ttl_s`` (24 h by default); expired
rows are pruned as new ones are written. A request without the header runs as before.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, Header, Request, Response
from pydantic import BaseModel
from sqlalchemy import Table, and_, delete, func, select, text, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DBAPIError

from guificloud.auth.dependencies import OptionalPrincipalDep
from guificloud.db.idempotency import idempotency_table
from guificloud.db.uow import UnitOfWork
from guificloud.errors import Conflict, InvalidInput
from guificloud.http import get_runtime
from guificloud.retries import IDEMPOTENCY_HEADER

HEADER = IDEMPOTENCY_HEADER
REPLAYED = "Idempotent-Replayed"
KEY_PATTERN = re.compile(r"[\x21-\x7e]{1,255}")
LOCK_NOT_AVAILABLE = "55P03"
PRUNE_BATCH = 100
DOC = (
    "Makes a retry safe: send a new key (a uuid4) with each request and the same key with its "
    "retries. The first response is kept 24 h (GUIFICLOUD_IDEMPOTENCY_TTL_S) and answered "
    "again to a retry with that key "
    f"(header `{REPLAYED}: true`), so a retry never creates twice; the key with another "
    "request body gets 422, and while the first request is still running, 409."
)

Make = Callable[[], Awaitable[Response | BaseModel]]


def request_hash(method: str, target: str, body: bytes) -> str:
    """What a key is bound to: method, path with query, and body (JSON in a canonical
    form, so a retry that orders its fields differently is still the same request)."""
    try:
        body = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        pass
    digest = hashlib.sha256(f"{method} {target}\n".encode())
    digest.update(body)
    return digest.hexdigest()


def as_response(result: Response | BaseModel, status_code: int) -> Response:
    """What a route made, as the response that is stored: a model becomes its JSON."""
    if isinstance(result, Response):
        return result
    return Response(
        result.model_dump_json(), status_code=status_code, media_type="application/json"
    )


@dataclass(frozen=True)
class Idempotency:
    """A request's ``Idempotency-Key`` (``key`` is None without one), bound to its caller,
    route and request hash; the route claims it in the transaction that creates."""

    table: Table
    key: str | None
    caller: str
    route: str
    request_hash: str
    ttl_s: float
    wait_s: float

    def covering(self, body_digest: str) -> Idempotency:
        """For a route that streams its body: bind the key to the body's digest as well,
        once the body has been read."""
        combined = hashlib.sha256(f"{self.request_hash}\n{body_digest}".encode()).hexdigest()
        return replace(self, request_hash=combined)

    async def run(self, uow: UnitOfWork, make: Make, *, status_code: int = 200) -> Response:
        """Claim the key, ``make`` the response (creating, without committing), store it and
        commit, all in ``uow``'s transaction; or answer what the key answered before."""
        replayed = await self.claim(uow)
        if replayed is not None:
            return replayed
        response = as_response(await make(), status_code)
        await self.record(uow, response)
        await uow.commit()
        return response

    def _row(self) -> Any:
        t = self.table
        return and_(t.c.caller == self.caller, t.c.route == self.route, t.c.key == self.key)

    async def seen(self, uow: UnitOfWork) -> bool:
        """Whether this key has a live response (to skip checks that its retry would fail)."""
        if self.key is None:
            return False
        t = self.table
        found = await uow.session.scalar(
            select(t.c.key).where(self._row(), t.c.expires_at > func.now())
        )
        return found is not None

    async def claim(self, uow: UnitOfWork) -> Response | None:
        """Take the key for this transaction; the stored response if it was answered before."""
        if self.key is None:
            return None
        t = self.table
        session = uow.session
        await self._prune(uow)
        new = insert(t).values(
            caller=self.caller,
            route=self.route,
            key=self.key,
            request_hash=self.request_hash,
            expires_at=func.now() + timedelta(seconds=self.ttl_s),
        )
        stmt = new.on_conflict_do_update(  # an expired row is taken over as if new
            index_elements=[t.c.caller, t.c.route, t.c.key],
            set_={
                "request_hash": new.excluded.request_hash,
                "expires_at": new.excluded.expires_at,
                "created_at": func.now(),
                "status_code": None,
                "headers": None,
                "body": None,
            },
            where=t.c.expires_at <= func.now(),
        ).returning(t.c.key)
        await session.execute(text(f"SET LOCAL lock_timeout = {max(1, int(self.wait_s * 1000))}"))
        try:
            claimed = (await session.execute(stmt)).first() is not None
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) == LOCK_NOT_AVAILABLE:
                raise Conflict(
                    f"a request with {HEADER} {self.key!r} is still in progress: "
                    "retry it in a moment"
                ) from exc
            raise
        await session.execute(text("SET LOCAL lock_timeout TO DEFAULT"))
        return None if claimed else await self.replay(uow)

    async def replay(self, uow: UnitOfWork) -> Response | None:
        """The response this key got, if it has a live one; 422 if that was another request.
        Reads only: a route whose work starts before its creating transaction asks first."""
        if self.key is None:
            return None
        t = self.table
        row = (
            await uow.session.execute(
                select(t.c.request_hash, t.c.status_code, t.c.headers, t.c.body).where(
                    self._row(), t.c.expires_at > func.now()
                )
            )
        ).first()
        if row is None:
            return None
        if row.request_hash != self.request_hash:
            raise InvalidInput(
                f"{HEADER} {self.key!r} was already used for another request to "
                f"{self.route} (another body or path): send a new key with a new request"
            )
        if row.status_code is None:
            raise Conflict(f"a request with {HEADER} {self.key!r} is still in progress")
        headers = {name: value for name, value in row.headers} | {REPLAYED: "true"}
        return Response(content=row.body, status_code=row.status_code, headers=headers)

    async def record(self, uow: UnitOfWork, response: Response) -> None:
        """Store ``response`` as the key's answer; the caller commits it with what it made."""
        if self.key is None:
            return
        headers = [[k, v] for k, v in response.headers.items() if k.lower() != "content-length"]
        await uow.session.execute(
            self.table.update()
            .where(self._row())
            .values(status_code=response.status_code, headers=headers, body=bytes(response.body))
        )

    async def _prune(self, uow: UnitOfWork) -> None:
        """Delete a batch of expired keys; rows other transactions hold are left to them."""
        t = self.table
        pk = tuple_(t.c.caller, t.c.route, t.c.key)
        expired = (
            select(t.c.caller, t.c.route, t.c.key)
            .where(t.c.expires_at <= func.now())
            .limit(PRUNE_BATCH)
            .with_for_update(skip_locked=True)
        )
        await uow.session.execute(delete(t).where(pk.in_(expired)))


def idempotency(*, read_body: bool = True) -> Callable[..., Awaitable[Idempotency]]:
    """The dependency of a creating route: keys belong to the caller (the account of the
    access token), so one caller's key never answers another's request. A route that
    streams its body passes ``read_body=False`` and binds the key to the body with
    :meth:`Idempotency.covering`."""

    async def dependency(
        request: Request,
        principal: OptionalPrincipalDep,
        key: Annotated[str | None, Header(alias=HEADER, description=DOC)] = None,
    ) -> Idempotency:
        if key is not None and not KEY_PATTERN.fullmatch(key):
            raise InvalidInput(
                f"{HEADER} must be 1 to 255 visible ASCII characters (a uuid4 will do)"
            )
        runtime = get_runtime(request)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        body = await request.body() if read_body and key is not None else b""
        route = getattr(request.scope.get("route"), "path", request.url.path)
        return Idempotency(
            table=idempotency_table(runtime.definition.metadata),
            key=key,
            caller="anonymous" if principal is None else str(principal.id),
            route=f"{request.method} {route}",
            request_hash=request_hash(request.method, target, body),
            ttl_s=runtime.settings.idempotency_ttl_s,
            wait_s=runtime.settings.idempotency_wait_s,
        )

    return dependency


IdempotencyDep = Annotated[Idempotency, Depends(idempotency())]
StreamedIdempotencyDep = Annotated[Idempotency, Depends(idempotency(read_body=False))]
