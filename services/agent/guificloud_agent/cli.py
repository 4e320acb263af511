"""The agent's command line: ``python -m guificloud_agent run|sim|config`` (and
``guificloud agent``). Secrets never come as arguments (``ps`` shows those to everyone): the
box's token from its configuration file or ``GUIFICLOUD_AGENT_TOKEN``, the admin token from
``GUIFICLOUD_ADMIN_TOKEN`` or ``--admin-token-file``; ``config`` also takes the stored login
(``guificloud login``) of the node's technicians."""

from __future__ import annotations

import asyncio
import os
import signal
from functools import partial
from pathlib import Path
from typing import Annotated

import httpx
import typer

from guificloud.boxes import BoxConfig
from guificloud.credentials import LoginRequired, caller_auth
from guificloud.logging import configure_logging, get_logger
from guificloud.secret_files import AdminTokenFile, admin_token, write_private
from guificloud.settings import DEFAULT_PORTS
from guificloud.tls import verify
from guificloud_agent.adopt import configured_boxes
from guificloud_agent.agent import Agent
from guificloud_agent.config import ConfigError, load_config
from guificloud_agent.drivers import DRIVERS, DriverFactory, Limits, LxcDriver, SimulatedDriver
from guificloud_agent.drivers.lxc_rootfs import DiskMode
from guificloud_agent.enroll import EnrollmentError, enroll_simulated_boxes
from guificloud_agent.fleet import load_fleet, run_agents, save_fleet
from guificloud_agent.options import AgentOptions
from guificloud_agent.settings import AgentSettings

log = get_logger(__name__)

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="The guifi-cloud box agent: one box, or a fleet of simulated boxes.",
)

LogFormat = Annotated[
    str, typer.Option(envvar="GUIFICLOUD_LOG_FORMAT", help="auto, console or json.")
]
LogLevel = Annotated[str, typer.Option(envvar="GUIFICLOUD_LOG_LEVEL")]
RateLimit = Annotated[
    int | None, typer.Option("--rate-limit", min=1, help="Image download bytes per second.")
]
HostMemory = Annotated[
    int | None,
    typer.Option(
        "--host-memory",
        min=1,
        help="Memory (MB) the box has for its platform and slivers (default: the host's).",
    ),
]
HostDisk = Annotated[
    int | None,
    typer.Option(
        "--host-disk",
        min=1,
        help="Disk (MB) the box has for its platform and slivers (default: the size of the "
        "file system of the cache folder).",
    ),
]
Resync = Annotated[
    float,
    typer.Option(
        "--resync-interval", min=0.1, help="Seconds between fetches of the desired state."
    ),
]


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


@app.command("run")
def run_cmd(
    config: Annotated[Path | None, typer.Option("--config", help="BoxConfig JSON file.")] = None,
    box_id: Annotated[str | None, typer.Option(envvar="GUIFICLOUD_AGENT_BOX_ID")] = None,
    provisioner_url: Annotated[
        str | None, typer.Option(envvar="GUIFICLOUD_AGENT_PROVISIONER_URL")
    ] = None,
    nats_url: Annotated[str | None, typer.Option(envvar="GUIFICLOUD_AGENT_NATS_URL")] = None,
    heartbeat_interval: Annotated[
        float | None, typer.Option("--heartbeat-interval", min=0.01)
    ] = None,
    driver: Annotated[str, typer.Option(help=f"One of: {', '.join(DRIVERS)}.")] = "simulated",
    cache_dir: Annotated[
        Path,
        typer.Option(
            envvar="GUIFICLOUD_AGENT_CACHE_DIR", help="Image cache and the agent's state."
        ),
    ] = Path(".guificloud/agent"),
    rate_limit: RateLimit = None,
    resync_interval: Resync = 30.0,
    require_signature: Annotated[
        bool,
        typer.Option(
            "--require-signature",
            envvar="GUIFICLOUD_AGENT_REQUIRE_SIGNATURE",
            help="Refuse unsigned images even before trusted keys are configured.",
        ),
    ] = False,
    platform_memory: Annotated[
        int, typer.Option("--platform-memory", min=16, help="Platform container memory, MB.")
    ] = 1024,
    platform_disk: Annotated[
        int, typer.Option("--platform-disk", min=8, help="Platform container disk, MB.")
    ] = 8192,
    lxc_path: Annotated[
        Path | None,
        typer.Option(
            "--lxc-path",
            envvar="GUIFICLOUD_AGENT_LXC_PATH",
            help="Where the lxc driver keeps containers (default: CACHE_DIR/state/lxc).",
        ),
    ] = None,
    lxc_bridge: Annotated[
        str | None,
        typer.Option(
            "--lxc-bridge",
            envvar="GUIFICLOUD_AGENT_LXC_BRIDGE",
            help="An existing bridge for the containers' veth; none: no network (empty).",
        ),
    ] = None,
    lxc_disk: Annotated[
        str,
        typer.Option(
            "--lxc-disk",
            help="loop: the disk limit is a loop-mounted ext4 file; dir: a plain directory, "
            "the limit checked at create only.",
        ),
    ] = "loop",
    host_memory: HostMemory = None,
    host_disk: HostDisk = None,
    log_format: LogFormat = "auto",
    log_level: LogLevel = "info",
) -> None:
    """Run the agent of one box, from its configuration file and/or flags (its token: from
    the file, or GUIFICLOUD_AGENT_TOKEN)."""
    configure_logging("agent", fmt=log_format, level=log_level)
    settings = AgentSettings()
    try:
        box = load_config(
            config,
            box_id=box_id,
            token=os.environ.get("GUIFICLOUD_AGENT_TOKEN") or None,
            provisioner_url=provisioner_url,
            nats_url=nats_url,
            heartbeat_interval_s=heartbeat_interval,
        )
        settings.refuse_plain_config(box)
    except ConfigError as exc:
        raise typer.BadParameter(str(exc), param_hint="--config") from exc
    if driver not in DRIVERS:
        raise typer.BadParameter(
            f"unknown driver {driver!r}; known: {', '.join(DRIVERS)}", param_hint="--driver"
        )
    if lxc_disk not in ("loop", "dir"):
        raise typer.BadParameter("must be loop or dir", param_hint="--lxc-disk")
    options = AgentOptions(
        cache_dir=cache_dir,
        resync_interval_s=resync_interval,
        download_rate_limit_bps=rate_limit,
        platform_limits=Limits(memory_mb=platform_memory, disk_mb=platform_disk),
        require_signature=require_signature,
        host_memory_mb=host_memory,
        host_disk_mb=host_disk,
        tls_ca=settings.tls_ca,
    )
    factory: DriverFactory = DRIVERS[driver]
    if driver == "lxc":
        disk: DiskMode = "dir" if lxc_disk == "dir" else "loop"
        factory = partial(LxcDriver, lxc_path=lxc_path, bridge=lxc_bridge, disk=disk)
    asyncio.run(_run_one(box, options, factory))


async def _run_one(config: BoxConfig, options: AgentOptions, driver: DriverFactory) -> None:
    stop = _stop_on_signals()
    agent = Agent(config, options, driver=driver(options.state_dir))
    await agent.run(stop)


@app.command("sim")
def sim_cmd(
    boxes: Annotated[int, typer.Option("--boxes", min=1, help="How many simulated boxes.")],
    registry_url: Annotated[str, typer.Option("--registry-url")],
    provisioner_url: Annotated[str, typer.Option("--provisioner-url")],
    admin_token_file: Path | None = AdminTokenFile,
    cache_dir: Annotated[
        Path, typer.Option("--cache-dir", help="One folder per box, and fleet.json.")
    ] = Path(".guificloud/boxes"),
    reuse: Annotated[
        bool,
        typer.Option(
            help="Run the boxes a previous run enrolled (fleet.json); enroll only the missing ones."
        ),
    ] = True,
    adopt: Annotated[
        bool,
        typer.Option(
            "--adopt",
            help="Enroll nothing: run a box for each device others add, as soon as the "
            "provisioner configures it, up to --boxes.",
        ),
    ] = False,
    rate_limit: RateLimit = None,
    resync_interval: Resync = 30.0,
    share_blobs: Annotated[
        bool,
        typer.Option(
            "--share-blobs/--own-blobs",
            help="One blob cache for all the boxes (an image is downloaded once), or one each.",
        ),
    ] = True,
    host_memory: HostMemory = None,
    host_disk: HostDisk = None,
    log_format: LogFormat = "auto",
    log_level: LogLevel = "info",
) -> None:
    """Enroll N simulated boxes through the registry, then run their agents until stopped."""
    configure_logging("agent", fmt=log_format, level=log_level)
    settings = AgentSettings()
    try:
        settings.refuse_plain(registry_url=registry_url, provisioner_url=provisioner_url)
    except ConfigError as exc:
        raise typer.BadParameter(str(exc)) from exc
    code = asyncio.run(
        _sim(
            settings,
            boxes,
            registry_url,
            provisioner_url,
            _required_admin_token(admin_token_file),
            cache_dir,
            reuse=reuse,
            adopt=adopt,
            rate_limit=rate_limit,
            resync_interval=resync_interval,
            share_blobs=share_blobs,
            host_memory=host_memory,
            host_disk=host_disk,
        )
    )
    raise typer.Exit(code)


async def _sim(
    settings: AgentSettings,
    boxes: int,
    registry_url: str,
    provisioner_url: str,
    admin_token: str,
    cache_dir: Path,
    *,
    reuse: bool,
    rate_limit: int | None,
    resync_interval: float,
    adopt: bool = False,
    share_blobs: bool = True,
    host_memory: int | None = None,
    host_disk: int | None = None,
) -> int:
    stop = _stop_on_signals()
    configs = (load_fleet(cache_dir) if reuse and not adopt else [])[:boxes]
    later = None
    if adopt:
        later = configured_boxes(
            provisioner_url, admin_token, stop, limit=boxes, ca=settings.tls_ca
        )
    elif len(configs) < boxes:
        enrolling = asyncio.create_task(
            enroll_simulated_boxes(
                boxes - len(configs),
                registry_url,
                provisioner_url,
                admin_token,
                ca=settings.tls_ca,
            )
        )
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({enrolling, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not enrolling.done():
            enrolling.cancel()
            await asyncio.gather(enrolling, return_exceptions=True)
            return 130
        try:
            configs += enrolling.result()
        except EnrollmentError as exc:
            log.error("fleet.enrollment_failed", error=str(exc))
            return 1
        save_fleet(cache_dir, configs)
    try:
        await run_agents(
            configs,
            driver_factory=SimulatedDriver,
            cache_root=cache_dir,
            stop=stop,
            resync_interval_s=resync_interval,
            rate_limit_bps=rate_limit,
            share_blobs=share_blobs,
            host_memory_mb=host_memory,
            host_disk_mb=host_disk,
            later=later,
            settings=settings,
        )
    except EnrollmentError as exc:
        log.error("fleet.adoption_failed", error=str(exc))
        return 1
    except ConfigError as exc:
        log.error("fleet.config_refused", error=str(exc))
        return 1
    return 0


def _required_admin_token(file: Path | None) -> str:
    token: str | None = admin_token(file)
    if token is None:
        raise typer.BadParameter(
            "the admin token is needed: set GUIFICLOUD_ADMIN_TOKEN or give a file",
            param_hint="--admin-token-file",
        )
    return token


@app.command("config")
def config_cmd(
    box_id: Annotated[str, typer.Argument(help="The box (its device id in the registry).")],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Written readable by its owner only.")
    ] = Path(".guificloud/box.json"),
    provisioner_url: Annotated[
        str, typer.Option("--provisioner-url", envvar="GUIFICLOUD_PROVISIONER_URL")
    ] = f"http://127.0.0.1:{DEFAULT_PORTS['provisioner']}",
    admin_token_file: Path | None = AdminTokenFile,
) -> None:
    """Save a box's configuration with a new token for ``agent run --config`` (the node's
    technicians and operators: the stored login, or the admin token). The box's previous
    token stops working: restart its agent with this file."""
    settings = AgentSettings()
    try:
        settings.refuse_plain(provisioner_url=provisioner_url)
    except ConfigError as exc:
        raise typer.BadParameter(str(exc), param_hint="--provisioner-url") from exc
    auth = caller_auth(admin_token_file)
    if auth is None:
        raise typer.BadParameter(
            "log in (guificloud login) as the node's technician or an operator, or give the "
            "admin token (GUIFICLOUD_ADMIN_TOKEN or a file)",
            param_hint="--admin-token-file",
        )
    url = f"{provisioner_url.rstrip('/')}/api/v1/boxes/{box_id}/config"
    try:
        response = httpx.get(url, auth=auth, timeout=30, verify=verify(settings.tls_ca))
    except httpx.HTTPError as exc:
        typer.echo(f"error: provisioner unreachable at {provisioner_url}: {exc}", err=True)
        raise typer.Exit(1) from exc
    except LoginRequired as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    if response.status_code != 200:
        typer.echo(f"error: {url}: {response.status_code} {response.text[:300]}", err=True)
        raise typer.Exit(1)
    BoxConfig.model_validate(response.json())
    write_private(output, response.text)
    typer.echo(f"{output}: configuration of box {box_id} (mode 0600)")
