"""Choosing boxes for slivers: pure functions over plain data (no database, no I/O).

``place`` filters the candidates (arch, zone subtree, free capacity, exclusions, one sliver
per node when ``spread``) and weighs the rest: the boxes with the most room first, taken in
turn from each zone so that a slice spreads over zones before it doubles up in one. The
database layer (:mod:`guificloud_provisioner.placement`) reserves what this chooses and
asks again for whatever a concurrent placement took first.
"""

from __future__ import annotations

import heapq
from collections import Counter
from dataclasses import dataclass, field
from uuid import UUID


@dataclass(frozen=True, slots=True)
class Candidate:
    """A box that could hold a sliver, as the scheduler sees it."""

    box_id: UUID
    node_id: UUID
    zone_id: UUID
    arch: str
    free_memory_mb: int
    free_disk_mb: int
    slivers: int = 0


@dataclass(frozen=True, slots=True)
class PlacementRequest:
    """``count`` slivers of ``memory_mb``/``disk_mb``; ``zone_ids`` is the whole subtree."""

    count: int
    memory_mb: int
    disk_mb: int
    arch: str | None = None
    zone_ids: frozenset[UUID] | None = None
    min_free_memory_mb: int = 0
    min_free_disk_mb: int = 0
    spread: bool = True
    exclude_boxes: frozenset[UUID] = field(default_factory=frozenset)
    exclude_nodes: frozenset[UUID] = field(default_factory=frozenset)


class PlacementError(Exception):
    """Not enough boxes; ``rejected`` counts the candidates each filter turned away."""

    def __init__(self, wanted: int, found: int, rejected: dict[str, int]) -> None:
        why = ", ".join(f"{n} {reason}" for reason, n in sorted(rejected.items()) if n)
        super().__init__(
            f"only {found} of the {wanted} boxes needed fit the placement"
            + (
                f" (rejected: {why})"
                if why
                else " (no other ready, online box of that arch and zone)"
            )
        )
        self.wanted = wanted
        self.found = found
        self.rejected = rejected


def _rejection(request: PlacementRequest, c: Candidate) -> str | None:
    """Why ``c`` cannot take a sliver of ``request``, or None when it can."""
    if c.box_id in request.exclude_boxes:
        return "already used or excluded"
    if c.node_id in request.exclude_nodes:
        return "on a node already used"
    if request.arch is not None and c.arch != request.arch:
        return "of another arch"
    if request.zone_ids is not None and c.zone_id not in request.zone_ids:
        return "outside the zone"
    if c.free_memory_mb < max(request.memory_mb, request.min_free_memory_mb):
        return "short of free memory"
    if c.free_disk_mb < max(request.disk_mb, request.min_free_disk_mb):
        return "short of free disk"
    return None


def weight(request: PlacementRequest, c: Candidate) -> float:
    """How many more slivers of this size the box could hold: more room, better."""
    return min(c.free_memory_mb / request.memory_mb, c.free_disk_mb / request.disk_mb)


def eligible(request: PlacementRequest, candidates: list[Candidate]) -> list[Candidate]:
    """The candidates that pass every filter, best first; one per node when spreading."""
    rejected: Counter[str] = Counter()
    passing: list[tuple[float, int, UUID, Candidate]] = []
    for c in candidates:
        reason = _rejection(request, c)
        if reason is None:
            passing.append((-weight(request, c), c.slivers, c.box_id, c))
        else:
            rejected[reason] += 1
    passing.sort(key=lambda t: (t[0], t[1], t[2]))
    best = [t[3] for t in passing]
    if request.spread:
        seen: set[UUID] = set()
        kept = []
        for c in best:
            if c.node_id in seen:
                rejected["on a node already used"] += 1
                continue
            seen.add(c.node_id)
            kept.append(c)
        best = kept
    if len(best) < request.count:
        raise PlacementError(request.count, len(best), dict(rejected))
    return best


def place(request: PlacementRequest, candidates: list[Candidate]) -> list[UUID]:
    """The boxes for ``request.count`` slivers; raises :class:`PlacementError` naming why
    there are not enough."""
    if request.count <= 0:
        return []
    best = eligible(request, candidates)
    by_zone: dict[UUID, list[Candidate]] = {}
    for c in best:
        by_zone.setdefault(c.zone_id, []).append(c)
    # Round-robin over zones: the zone with the fewest picks so far, then the best next box.
    rank = {c.box_id: i for i, c in enumerate(best)}
    heap = [(0, rank[boxes[0].box_id], zone) for zone, boxes in by_zone.items()]
    heapq.heapify(heap)
    position = dict.fromkeys(by_zone, 0)
    chosen: list[UUID] = []
    while len(chosen) < request.count:
        picks, _, zone = heapq.heappop(heap)
        boxes = by_zone[zone]
        chosen.append(boxes[position[zone]].box_id)
        position[zone] += 1
        if position[zone] < len(boxes):
            heapq.heappush(heap, (picks + 1, rank[boxes[position[zone]].box_id], zone))
    return chosen
