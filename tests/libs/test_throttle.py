"""Log lines in an outage: one per kind and interval, saying how many it stands for."""

from __future__ import annotations

import pytest

from guificloud.logging import Throttle

pytestmark = pytest.mark.unit


def test_one_line_per_kind_and_interval_with_the_count() -> None:
    now = [0.0]
    throttle = Throttle(10.0, clock=lambda: now[0])
    lines = []
    for second in range(25):  # a refused connection every 0.1 s for 25 s
        for tenth in range(10):
            now[0] = second + tenth / 10
            if count := throttle.admit("ConnectionRefusedError"):
                lines.append((now[0], count))
    assert lines == [(0.0, 1), (10.0, 100), (20.0, 100)]
    assert throttle.admit("DeadlockDetectedError") == 1, "another kind has its own line"
    now[0] = 40.0
    assert throttle.admit("ConnectionRefusedError") == 50, "the held-back ones are counted"
