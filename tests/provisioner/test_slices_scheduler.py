"""The scheduler alone: filters, weights, spread over nodes and zones, and why it refuses."""

from __future__ import annotations

from dataclasses import replace
from uuid import UUID, uuid4

import pytest

from guificloud_provisioner.slices.scheduler import (
    Candidate,
    PlacementError,
    PlacementRequest,
    place,
)

pytestmark = pytest.mark.unit


def box(
    zone: UUID, *, node: UUID | None = None, arch: str = "amd64", mem: int = 2000, disk: int = 2000
) -> Candidate:
    return Candidate(uuid4(), node or uuid4(), zone, arch, mem, disk)


def test_filters_arch_zone_capacity_and_min_free() -> None:
    inside, outside = uuid4(), uuid4()
    good = box(inside)
    others = [
        box(inside, arch="arm64"),
        box(outside),
        box(inside, mem=300),
        box(inside, disk=100),
        box(inside, mem=900),  # fits the sliver but not min_free_memory_mb
    ]
    request = PlacementRequest(
        count=1,
        memory_mb=512,
        disk_mb=200,
        arch="amd64",
        zone_ids=frozenset({inside}),
        min_free_memory_mb=1000,
    )
    assert place(request, [*others, good]) == [good.box_id]
    with pytest.raises(PlacementError) as refused:
        place(_with(request, count=2), [*others, good])
    message = str(refused.value)
    assert "only 1 of the 2" in message
    for why in (
        "of another arch",
        "outside the zone",
        "short of free memory",
        "short of free disk",
    ):
        assert why in message


def _with(request: PlacementRequest, **changes: object) -> PlacementRequest:
    return replace(request, **changes)  # type: ignore[arg-type]


def test_most_room_first_and_spread_over_nodes() -> None:
    zone, node = uuid4(), uuid4()
    big = box(zone, node=node, mem=4000)
    same_node = box(zone, node=node, mem=3500)
    small = box(zone, mem=1000)
    request = PlacementRequest(count=2, memory_mb=512, disk_mb=200)
    assert place(request, [small, same_node, big]) == [big.box_id, small.box_id]
    assert set(place(_with(request, spread=False), [small, same_node, big])) == {
        big.box_id,
        same_node.box_id,
    }
    with pytest.raises(PlacementError, match="on a node already used"):
        place(_with(request, count=3), [small, same_node, big])


def test_spreads_over_zones_before_doubling_up() -> None:
    a, b = uuid4(), uuid4()
    in_a = [box(a, mem=4000 - i) for i in range(3)]
    in_b = [box(b, mem=1000)]
    chosen = place(PlacementRequest(count=2, memory_mb=512, disk_mb=200), [*in_a, *in_b])
    assert set(chosen) == {in_a[0].box_id, in_b[0].box_id}


def test_exclusions_and_empty_requests() -> None:
    zone = uuid4()
    first, second = box(zone), box(zone)
    request = PlacementRequest(count=1, memory_mb=512, disk_mb=200)
    assert place(_with(request, exclude_boxes=frozenset({first.box_id})), [first, second]) == [
        second.box_id
    ]
    assert place(_with(request, exclude_nodes=frozenset({second.node_id})), [first, second]) == [
        first.box_id
    ]
    assert place(_with(request, count=0), []) == []
    with pytest.raises(PlacementError, match="no other ready, online box"):
        place(request, [])
