"""The LXC configuration file of a container the agent makes, and the cgroup keys it needs.

The agent writes ``<lxcpath>/<name>/config`` itself (no template: the root filesystem comes
from the image). Networking is ``empty`` (the container has only its loopback) unless a
bridge is named, in which case the container gets a veth ``eth0`` on that existing bridge.
Memory and CPU limits become cgroup settings: ``lxc.cgroup2.*`` on a host with the unified
hierarchy only, ``lxc.cgroup.*`` (cgroup v1 controllers) on a legacy or hybrid host, where
LXC ignores cgroup2 limits.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from guificloud_agent.drivers.base import DriverError, Limits

COMMON_CONF = Path("/usr/share/lxc/config/common.conf")
CGROUP_ROOT = Path("/sys/fs/cgroup")
CPU_PERIOD_US = 100_000
MIB = 1024 * 1024


@dataclass(frozen=True)
class ContainerConfig:
    name: str
    rootfs: str
    """An LXC rootfs path with its backend: ``dir:/…/rootfs`` or ``loop:/…/rootdev``."""
    limits: Limits
    console_log: Path
    bridge: str | None = None
    init: str = "/sbin/init"


def unified_cgroups(root: Path = CGROUP_ROOT) -> bool:
    """Whether the host mounts only cgroup v2 (``/sys/fs/cgroup`` is the unified hierarchy)."""
    return (root / "cgroup.controllers").is_file()


def _controllers(root: Path) -> set[str]:
    if unified_cgroups(root):
        return set((root / "cgroup.controllers").read_text().split())
    return {p.name for p in root.iterdir() if p.is_dir()} if root.is_dir() else set()


def limit_lines(limits: Limits, root: Path = CGROUP_ROOT) -> list[str]:
    """The cgroup settings of ``limits``; raises :class:`DriverError` if the host lacks the
    controller a limit needs (a limit that is not enforced is worse than a refusal)."""
    v2 = unified_cgroups(root)
    available = _controllers(root)
    lines: list[str] = []

    def need(controller: str, what: str) -> None:
        if controller not in available:
            raise DriverError(f"cannot enforce the {what}: no {controller} cgroup controller")

    if limits.memory_mb is not None:
        need("memory", f"memory limit of {limits.memory_mb} MB")
        size = limits.memory_mb * MIB
        lines.append(
            f"lxc.cgroup2.memory.max = {size}"
            if v2
            else f"lxc.cgroup.memory.limit_in_bytes = {size}"
        )
    if limits.cpus is not None:
        need("cpu", f"limit of {limits.cpus:g} CPUs")
        quota = max(1000, round(limits.cpus * CPU_PERIOD_US))
        if v2:
            lines.append(f"lxc.cgroup2.cpu.max = {quota} {CPU_PERIOD_US}")
        else:
            lines.append(f"lxc.cgroup.cpu.cfs_period_us = {CPU_PERIOD_US}")
            lines.append(f"lxc.cgroup.cpu.cfs_quota_us = {quota}")
    return lines


def render(config: ContainerConfig, *, cgroup_root: Path = CGROUP_ROOT) -> str:
    lines = ["# Written by the guifi-cloud agent (lxc driver) from the container's image."]
    if COMMON_CONF.is_file():
        lines.append(f"lxc.include = {COMMON_CONF}")
    else:
        lines.append("lxc.mount.auto = cgroup:mixed proc:mixed sys:mixed")
    lines += [
        "lxc.apparmor.profile = generated",
        f"lxc.uts.name = {config.name}",
        f"lxc.rootfs.path = {config.rootfs}",
        f"lxc.init.cmd = {config.init}",
        "lxc.autodev = 1",
        f"lxc.console.logfile = {config.console_log}",
    ]
    if config.bridge is None:
        lines.append("lxc.net.0.type = empty")
    else:
        lines += [
            "lxc.net.0.type = veth",
            f"lxc.net.0.link = {config.bridge}",
            "lxc.net.0.name = eth0",
            "lxc.net.0.flags = up",
        ]
    lines += limit_lines(config.limits, cgroup_root)
    return "\n".join(lines) + "\n"
