"""Running the LXC tools (and tar, mkfs, mount) from a driver: with a time-out, never a hang.

A tool that is missing or runs too long becomes a :class:`DriverError` that says which and
why; a cancelled call kills its process rather than leaving it behind.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from guificloud_agent.drivers.base import DriverError

INSTALL_HINT = {
    "lxc-start": "lxc",
    "lxc-stop": "lxc",
    "lxc-info": "lxc",
    "lxc-destroy": "lxc",
    "lxc-attach": "lxc",
    "lxc-ls": "lxc",
    "mkfs.ext4": "e2fsprogs",
    "mount": "mount",
    "umount": "mount",
    "tar": "tar",
}


@dataclass(frozen=True)
class Completed:
    code: int
    out: str
    err: str

    @property
    def message(self) -> str:
        """What the tool said about its failure, on one line."""
        text = (self.err.strip() or self.out.strip() or f"exit status {self.code}").splitlines()
        return " / ".join(line.strip() for line in text[-3:])


async def run(argv: Sequence[str], *, timeout_s: float) -> Completed:
    """Run ``argv`` to completion; stdin is closed, output is captured."""
    try:
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
    except FileNotFoundError:
        package = INSTALL_HINT.get(argv[0])
        hint = f" (Debian package {package})" if package else ""
        raise DriverError(f"{argv[0]} is not installed{hint}") from None
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout_s)
    except TimeoutError:
        raise DriverError(f"{argv[0]} did not finish within {timeout_s:g} s") from None
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return Completed(process.returncode, out.decode(errors="replace"), err.decode(errors="replace"))


async def check(argv: Sequence[str], *, timeout_s: float, doing: str) -> Completed:
    """Like :func:`run`, but a non-zero exit is a :class:`DriverError` saying what failed."""
    result = await run(argv, timeout_s=timeout_s)
    if result.code != 0:
        raise DriverError(f"{doing} failed: {result.message}")
    return result
