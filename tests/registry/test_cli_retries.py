"""The CLI retries a creation whose answer was lost with the same ``Idempotency-Key``: the
registry (a real process) committed the node once, and answers the retry with it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import typer
from typer.testing import CliRunner

from guificloud.testing.processes import ServiceProcess
from guificloud_cli.registry_cmds import node_app

pytestmark = pytest.mark.integration


class LosingProxy:
    """Forwards HTTP to the registry, but the first POST's answer never reaches the client:
    the registry did the work, the client sees its connection drop."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.lost = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        request = await reader.read(65536)
        lose = request.startswith(b"POST ") and self.lost == 0
        up_writer.write(request)

        async def client_to_server() -> None:
            while chunk := await reader.read(65536):
                up_writer.write(chunk)

        forward = asyncio.create_task(client_to_server())
        try:
            while chunk := await up_reader.read(65536):
                if lose:
                    self.lost += 1
                    break
                writer.write(chunk)
                await writer.drain()
        finally:
            forward.cancel()
            writer.transport.abort()
            up_writer.transport.abort()


@contextlib.asynccontextmanager
async def losing_proxy(upstream_port: int) -> AsyncIterator[tuple[str, LosingProxy]]:
    proxy = LosingProxy(upstream_port)
    server = await asyncio.start_server(proxy.handle, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}", proxy
    finally:
        server.close()


async def test_a_node_whose_answer_was_lost_is_created_once(
    registry_proc: ServiceProcess, registry: httpx.Client, operator_login: Path
) -> None:
    zone = registry.post("/api/v1/zones", json={"name": "Osona"}).json()["id"]
    app = typer.Typer()
    app.add_typer(node_app, name="node")
    args = ["node", "add", "Vic", "--zone", zone, "--lat", "41.93", "--lon", "2.25"]

    async with losing_proxy(registry_proc.port) as (url, proxy):
        result = await asyncio.to_thread(
            CliRunner().invoke, app, args, env={"GUIFICLOUD_REGISTRY_URL": url, "COLUMNS": "200"}
        )
    assert proxy.lost == 1
    assert result.exit_code == 0, result.output
    assert "node created" in result.output
    nodes = registry.get("/api/v1/nodes", params={"zone_id": zone}).json()
    assert [n["name"] for n in nodes] == ["Vic"]
