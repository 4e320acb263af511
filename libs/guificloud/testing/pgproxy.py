"""A TCP proxy between a service and PostgreSQL that a test cuts at an exact moment.

Armed with a marker (bytes the request sends, such as a unique name among the statement's
parameters), it waits for the connection that sent the marker to commit; when PostgreSQL
answers that COMMIT, it either passes the answer on and then cuts (the database goes away
right after a commit) or cuts without passing it (the commit happened, the service never
hears of it). Cut, every connection is closed and new ones are refused until
:meth:`PgProxy.restore`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from sqlalchemy.engine import make_url

COMMIT_SENT = b"COMMIT"
COMMIT_DONE = b"COMMIT\x00"  # the CommandComplete tag of a COMMIT


@dataclass(eq=False)
class _Link:
    to_client: asyncio.StreamWriter
    to_server: asyncio.StreamWriter
    marked: bool = False
    committing: bool = False
    seen: bytes = field(default=b"")


class PgProxy:
    def __init__(self, database_url: str) -> None:
        self.upstream = make_url(database_url)
        self.port = 0
        self.cut_done = asyncio.Event()
        self._server: asyncio.Server | None = None
        self._links: set[_Link] = set()
        self._refusing = False
        self._marker: bytes | None = None
        self._deliver = True

    def url(self) -> str:
        """The database URL that goes through the proxy."""
        proxied = self.upstream.set(host="127.0.0.1", port=self.port)
        return proxied.render_as_string(hide_password=False)

    def cut_after_commit(self, marker: bytes, *, deliver_answer: bool) -> None:
        self._marker, self._deliver = marker, deliver_answer
        self.cut_done.clear()

    def cut(self) -> None:
        self._refusing, self._marker = True, None
        for link in list(self._links):
            link.to_client.transport.abort()
            link.to_server.transport.abort()
        self.cut_done.set()

    def restore(self) -> None:
        self._refusing = False

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._refusing:
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(
                self.upstream.host, self.upstream.port
            )
        except OSError:
            writer.transport.abort()
            return
        link = _Link(to_client=writer, to_server=up_writer)
        self._links.add(link)
        try:
            await asyncio.gather(self._upstream(reader, link), self._downstream(up_reader, link))
        except (ConnectionError, OSError):
            pass
        finally:
            self._links.discard(link)
            writer.transport.abort()
            up_writer.transport.abort()

    async def _upstream(self, reader: asyncio.StreamReader, link: _Link) -> None:
        while chunk := await reader.read(65536):
            if self._marker is not None and not link.marked:
                window = link.seen + chunk
                link.marked = self._marker in window
                link.seen = window[-len(self._marker) :]
            elif link.marked and COMMIT_SENT in chunk:
                link.committing = True
            link.to_server.write(chunk)
            await link.to_server.drain()
        link.to_server.transport.abort()

    async def _downstream(self, reader: asyncio.StreamReader, link: _Link) -> None:
        while chunk := await reader.read(65536):
            if link.committing and COMMIT_DONE in chunk:
                if self._deliver:
                    link.to_client.write(chunk)
                    await link.to_client.drain()
                self.cut()
                return
            link.to_client.write(chunk)
            await link.to_client.drain()
        link.to_client.transport.abort()


@contextlib.asynccontextmanager
async def pg_proxy(database_url: str) -> AsyncIterator[PgProxy]:
    """A proxy to the database of ``database_url`` on a free local port, for the block."""
    proxy = PgProxy(database_url)
    server = await asyncio.start_server(proxy._handle, "127.0.0.1", 0)
    proxy.port = server.sockets[0].getsockname()[1]
    try:
        yield proxy
    finally:
        server.close()
        proxy.cut()
        await server.wait_closed()
