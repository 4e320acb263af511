"""Running a coroutine as a program: on uvloop where it is installed (it is on Linux)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - other platforms
        return asyncio.run(main)
    return uvloop.run(main)
