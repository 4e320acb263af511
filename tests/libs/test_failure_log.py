"""A background loop in an outage: one line per kind and ten seconds, the watch told of each."""

from __future__ import annotations

import pytest
from structlog.testing import capture_logs

from guificloud.failure_log import FailureLog

pytestmark = pytest.mark.unit


def test_a_loop_failing_every_second_logs_once_per_kind_and_interval() -> None:
    now = [0.0]
    suspected: list[BaseException] = []
    failures = FailureLog(suspected.append, clock=lambda: now[0])
    with capture_logs() as logs:
        for second in range(30):  # a sweep a second through a 30 s outage
            now[0] = float(second)
            failures.failed("sweeper.failed", ConnectionRefusedError(111, "refused"))
        failures.failed("sweeper.failed", ValueError("a bug"))
    assert [(line["event"], line["count"]) for line in logs] == [
        ("sweeper.failed", 1),
        ("sweeper.failed", 10),
        ("sweeper.failed", 10),
        ("sweeper.failed", 1),
    ]
    assert logs[0]["error"] == "ConnectionRefusedError: [Errno 111] refused"
    assert logs[0]["exc_info"] is None, "no traceback for an outage"
    assert isinstance(logs[-1]["exc_info"], ValueError), "a bug keeps its traceback"
    assert len(suspected) == 30, "the database watch hears of every transient failure"
