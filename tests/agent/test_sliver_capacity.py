"""The box's ledger of memory and disk: what a sliver may take, and the reason it may not."""

from __future__ import annotations

from pathlib import Path
from uuid import uuid4

import psutil
import pytest

from guificloud_agent.capacity import HostCapacity, Ledger, Reservation, host_capacity
from guificloud_agent.drivers.base import Limits
from guificloud_agent.failures import SliverFailed
from guificloud_agent.options import AgentOptions

pytestmark = pytest.mark.unit


def test_reservations_never_exceed_what_the_box_has_beside_its_platform() -> None:
    ledger = Ledger(HostCapacity(memory_mb=2048, disk_mb=10_000))
    ledger.platform = Limits(memory_mb=1024, disk_mb=8192)
    first, second, third = uuid4(), uuid4(), uuid4()
    ledger.reserve(first, Reservation(memory_mb=512, disk_mb=1000))
    with pytest.raises(SliverFailed) as refused:
        ledger.reserve(second, Reservation(memory_mb=600, disk_mb=900))
    assert refused.value.state == "fail_allocate"
    assert refused.value.reason == (
        "not enough memory: the sliver needs 600 MB, 512 MB free of 2048 MB "
        "(platform 1024 MB, 1 other slivers 512 MB); "
        "not enough disk: the sliver needs 900 MB, 808 MB free of 10000 MB "
        "(platform 8192 MB, 1 other slivers 1000 MB)"
    )
    assert not ledger.holds(second)

    ledger.release(first)
    ledger.reserve(second, Reservation(memory_mb=600, disk_mb=900))
    ledger.platform = Limits()  # no platform any more: its share is free
    ledger.reserve(third, Reservation(memory_mb=1448, disk_mb=9100))
    with pytest.raises(SliverFailed, match="not enough memory: .* 0 MB free"):
        ledger.reserve(uuid4(), Reservation(memory_mb=1, disk_mb=1))


def test_a_restarted_agent_takes_back_what_its_slivers_held() -> None:
    ledger = Ledger(HostCapacity(memory_mb=100, disk_mb=100))
    held = uuid4()
    ledger.adopt(held, Reservation(memory_mb=80, disk_mb=10))
    ledger.reserve(held, Reservation(memory_mb=80, disk_mb=10))  # already its own
    with pytest.raises(SliverFailed, match="^not enough memory: the sliver needs 40 MB, 20 MB"):
        ledger.reserve(uuid4(), Reservation(memory_mb=40, disk_mb=10))


def test_the_capacity_is_the_hosts_unless_options_say_otherwise(tmp_path: Path) -> None:
    real = host_capacity(AgentOptions(cache_dir=tmp_path))
    assert real.memory_mb == psutil.virtual_memory().total // (1024 * 1024)
    assert real.disk_mb == psutil.disk_usage(str(tmp_path)).total // (1024 * 1024)
    given = AgentOptions(cache_dir=tmp_path, host_memory_mb=4096, host_disk_mb=20_000)
    assert host_capacity(given) == HostCapacity(memory_mb=4096, disk_mb=20_000)
