"""A loop's failures, logged so that an outage stays readable.

A background loop (the outbox relay, the monitor's sweeper, the provisioner's slice passes)
meets the same failure on every pass while the database or NATS is away. :class:`FailureLog`
writes one line per event and kind of failure every ten seconds, with ``count=`` (how many
failures the line stands for), a traceback only for what is not a known transient failure,
and tells ``suspect`` (the runtime's database watch) of each transient one: the outage's
start and end are logged once, there.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from guificloud.failures import Failure, classify, describe, kind
from guificloud.logging import Throttle, get_logger

log = get_logger(__name__)

Suspect = Callable[[BaseException], None]


class FailureLog:
    def __init__(
        self,
        suspect: Suspect | None = None,
        *,
        every_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._suspect = suspect
        self._throttle = Throttle(every_s, clock=clock)

    def failed(self, event: str, exc: BaseException, **fields: object) -> None:
        """Log ``event`` for ``exc`` unless a line of the same event and kind is recent."""
        transient = classify(exc) is Failure.TRANSIENT
        if transient and self._suspect is not None:
            self._suspect(exc)
        if count := self._throttle.admit((event, kind(exc))):
            log.warning(
                event,
                error=describe(exc),
                count=count,
                exc_info=None if transient else exc,
                **fields,
            )
