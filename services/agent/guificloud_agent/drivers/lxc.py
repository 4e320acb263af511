"""The LXC driver: real system containers from an image's root filesystem, as Community-Lab
ran its slivers. It needs root and the LXC 5 tools of Debian's ``lxc`` package.

A container lives in ``<lxcpath>/<name>/``: ``config`` (written by the agent, see
``lxc_config``), its root filesystem (see ``lxc_rootfs``: a loop-mounted ext4 file of the
disk limit, or a directory) and the logs of its last start. ``config`` is written last, so a
folder without it is the remains of an interrupted create and is cleared by the next one.
The default lxcpath is ``<state_dir>/lxc``, so that several agents on one host (tests, a
demo) never share container names; give ``/var/lib/lxc`` to see them with a bare ``lxc-ls``.
The state reported is LXC's own (``lxc-info``), so a container that died is seen as stopped.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from collections.abc import Sequence
from pathlib import Path

from guificloud.logging import get_logger
from guificloud_agent.drivers.base import ContainerState, DriverError, Limits
from guificloud_agent.drivers.lxc_config import ContainerConfig, render
from guificloud_agent.drivers.lxc_rootfs import DiskMode, rootfs_path, unmount, unpack
from guificloud_agent.drivers.rootfs import INIT, inspect_image
from guificloud_agent.drivers.subprocesses import Completed, check, run

log = get_logger(__name__)

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
LXC_ERROR = re.compile(r"\b(?:ERROR|CRIT|ALERT|FATAL)\s+\S+ - [^ ]+ - (.*)$")
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class LxcDriver:
    name = "lxc"

    def __init__(
        self,
        state_dir: Path,
        lxc_path: Path | None = None,
        *,
        bridge: str | None = None,
        disk: DiskMode = "loop",
        stop_timeout_s: float = 30.0,
        command_timeout_s: float = 60.0,
        unpack_timeout_s: float = 900.0,
    ) -> None:
        self.lxc_path = (lxc_path or state_dir / "lxc").absolute()
        self.lxc_path.mkdir(parents=True, exist_ok=True)
        self.bridge = bridge
        self.disk = disk
        self.stop_timeout_s = stop_timeout_s
        self.command_timeout_s = command_timeout_s
        self.unpack_timeout_s = unpack_timeout_s

    def _dir(self, name: str) -> Path:
        if not NAME.match(name):
            raise DriverError(f"invalid container name {name!r}")
        return self.lxc_path / name

    def _tool(self, tool: str, name: str, *args: str) -> list[str]:
        return [tool, "--name", name, "--lxcpath", str(self.lxc_path), *args]

    # -- life cycle --------------------------------------------------------------------

    async def create(self, name: str, rootfs_image: Path, limits: Limits) -> None:
        directory = self._dir(name)
        if (directory / "config").exists():
            raise DriverError(f"container {name} already exists")
        await _discard(directory)
        summary = await asyncio.to_thread(inspect_image, rootfs_image)
        if not summary.has_init:
            raise DriverError(f"image has no /{INIT} to boot the container with")
        config = render(  # before unpacking: a limit this host cannot enforce fails fast
            ContainerConfig(
                name=name,
                rootfs=rootfs_path(directory, limits.disk_mb, self.disk),
                limits=limits,
                console_log=directory / "console.log",
                bridge=self.bridge,
            )
        )
        directory.mkdir(parents=True)
        try:
            await unpack(
                rootfs_image,
                directory,
                summary,
                limits.disk_mb,
                self.disk,
                timeout_s=self.unpack_timeout_s,
            )
            tmp = directory / "config.tmp"
            tmp.write_text(config)
            os.replace(tmp, directory / "config")
        except BaseException:
            await _discard(directory)
            raise
        log.info(
            "container.created",
            container=name,
            image=str(rootfs_image),
            members=summary.members,
            memory_mb=limits.memory_mb,
            disk_mb=limits.disk_mb,
        )

    async def start(self, name: str) -> None:
        state = await self.state(name)
        if state == "absent":
            raise DriverError(f"container {name} does not exist")
        if state == "running":
            return
        start_log = self._dir(name) / "start.log"
        start_log.unlink(missing_ok=True)
        result = await run(
            self._tool("lxc-start", name, "--daemon", f"--logfile={start_log}", "-l", "ERROR"),
            timeout_s=self.command_timeout_s,
        )
        if result.code != 0 or await self.state(name) != "running":
            reason = _start_failure(start_log, result)
            raise DriverError(f"container {name} did not start: {reason}")
        log.info("container.started", container=name)

    async def stop(self, name: str) -> None:
        state = await self.state(name)
        if state == "absent":
            raise DriverError(f"container {name} does not exist")
        if state == "stopped":
            return
        await check(
            self._tool("lxc-stop", name, "--timeout", str(round(self.stop_timeout_s))),
            timeout_s=self.stop_timeout_s + self.command_timeout_s,
            doing=f"stopping container {name}",
        )
        if await self.state(name) != "stopped":
            raise DriverError(f"container {name} is still running after lxc-stop")
        log.info("container.stopped", container=name)

    async def destroy(self, name: str) -> None:
        state = await self.state(name)
        if state == "absent":
            return
        if state == "running":
            raise DriverError(f"container {name} is running; stop it first")
        await check(
            self._tool("lxc-destroy", name),
            timeout_s=self.command_timeout_s,
            doing=f"destroying container {name}",
        )
        await _discard(self._dir(name))
        log.info("container.destroyed", container=name)

    async def state(self, name: str) -> ContainerState:
        if not (self._dir(name) / "config").is_file():
            return "absent"
        result = await run(
            self._tool("lxc-info", name, "--state", "--no-humanize"),
            timeout_s=self.command_timeout_s,
        )
        if result.code != 0:
            raise DriverError(f"cannot read the state of container {name}: {result.message}")
        return "stopped" if result.out.strip() == "STOPPED" else "running"

    # -- for operators and tests -------------------------------------------------------

    async def attach(self, name: str, argv: Sequence[str], *, timeout_s: float = 30.0) -> Completed:
        """Run ``argv`` inside the running container, with a clean environment."""
        return await run(
            self._tool("lxc-attach", name, "--clear-env", f"--set-var=PATH={PATH}", "--", *argv),
            timeout_s=timeout_s,
        )

    async def names(self) -> list[str]:
        """The containers LXC knows in this driver's lxcpath (``lxc-ls``)."""
        result = await check(
            ["lxc-ls", "--lxcpath", str(self.lxc_path), "-1"],
            timeout_s=self.command_timeout_s,
            doing="listing containers",
        )
        return result.out.split()


async def _discard(directory: Path) -> None:
    """Remove what is left of a container folder (its disk unmounted first)."""
    if not directory.exists():
        return
    await unmount(directory / "rootfs")
    await asyncio.to_thread(shutil.rmtree, directory)


def _start_failure(start_log: Path, result: Completed) -> str:
    """LXC's own error lines, without their timestamps and source locations."""
    try:
        lines = start_log.read_text(errors="replace").splitlines()
    except OSError:
        lines = []
    errors = [m.group(1).strip() for line in lines if (m := LXC_ERROR.search(line))]
    return "; ".join(errors[-3:]) or result.message
