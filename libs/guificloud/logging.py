"""structlog configuration: console on a TTY, JSON otherwise; context carries correlation ids.

Logs go to standard output (see :mod:`guificloud.logsink` for what happens when it breaks).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any

import structlog
from structlog.contextvars import bind_contextvars, get_contextvars, merge_contextvars

from guificloud.logsink import LogSink

__all__ = [
    "Throttle",
    "bind_contextvars",
    "configure_logging",
    "current_correlation_id",
    "get_logger",
]


def configure_logging(
    service: str, *, fmt: str = "auto", level: str = "info", fallback: Path | None = None
) -> None:
    """Configure structlog and the stdlib root logger once per process; ``fallback`` is the
    file that takes over if standard output breaks."""
    sink = LogSink(fallback)
    use_console = fmt == "console" or (fmt == "auto" and sink.isatty())
    renderer: Any = (
        structlog.dev.ConsoleRenderer(colors=True)
        if use_console
        else structlog.processors.JSONRenderer()
    )
    numeric = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    structlog.configure(
        processors=[
            merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.WriteLoggerFactory(file=sink),  # type: ignore[arg-type]
        cache_logger_on_first_use=True,
    )
    logging.basicConfig(level=max(numeric, logging.WARNING), stream=sink)
    bind_contextvars(service=service)


def get_logger(name: str | None = None) -> Any:
    return structlog.get_logger(name)


def current_correlation_id() -> str | None:
    value = get_contextvars().get("correlation_id")
    return str(value) if value is not None else None


class Throttle:
    """At most one log line per key every ``every_s`` seconds, so that an outage logs one
    line per kind of failure and interval, saying with ``count=`` how many it stands for,
    instead of one line (and a traceback) per request or message."""

    def __init__(
        self, every_s: float = 10.0, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._every_s = every_s
        self._clock = clock
        self._last: dict[Hashable, float] = {}
        self._held: dict[Hashable, int] = {}

    def admit(self, key: Hashable) -> int:
        """0 to stay silent; else how many occurrences the line to log stands for: this one
        and those held back since the last line of ``key``."""
        held = self._held.get(key, 0) + 1
        now = self._clock()
        last = self._last.get(key)
        if last is not None and now - last < self._every_s:
            self._held[key] = held
            return 0
        self._last[key] = now
        self._held[key] = 0
        return held
