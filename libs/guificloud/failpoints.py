"""Failpoints: named places where a test can make a process die as in a crash.

``GUIFICLOUD_FAILPOINTS="consumer.after_commit=kill"`` makes the process SIGKILL itself the
first time it reaches ``failpoint("consumer.after_commit")``. Unset (the normal case) it costs
one dictionary look-up. Crash tests use it to stop a service at an exact point of a flow.
"""

from __future__ import annotations

import os
import signal
from functools import cache


@cache
def _armed() -> dict[str, str]:
    spec = os.environ.get("GUIFICLOUD_FAILPOINTS", "")
    pairs = (item.split("=", 1) for item in spec.split(",") if "=" in item)
    return {name.strip(): action.strip() for name, action in pairs}


def failpoint(name: str) -> None:
    if _armed().get(name) == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
