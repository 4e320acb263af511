"""Every state and ladder of the system, defined once.

The ``Literal`` types are what pydantic models, SQLAlchemy columns and mypy use; the tuples
come from them (``get_args`` keeps the order written) and the tables are checked against
them (``tests/libs/test_states.py``), so adding a state is a change here and nowhere else:
the events, the provisioner, the agent and the CLI all read these.
"""

from __future__ import annotations

from typing import Literal, get_args

# -- what a slice (or one sliver) is asked to be -----------------------------------------

SetState = Literal["register", "deploy", "start"]
"""Community-Lab's set-state ladder, lowest first."""

SET_STATES: tuple[SetState, ...] = get_args(SetState)


def effective_set_state(sliver: SetState, slice_: SetState) -> SetState:
    """A sliver may lower its slice's state, never raise it: ``min(sliver, slice)``."""
    return min(sliver, slice_, key=SET_STATES.index)


# -- what a box says of one sliver (Community-Lab's names) -------------------------------

SliverRung = Literal["registered", "allocated", "deployed", "started"]
"""The rungs a box climbs, lowest first. ``allocated``: image fetched and verified,
resources reserved; ``deployed``: container made, stopped; ``started``: running."""

SliverFailure = Literal["fail_allocate", "fail_deploy", "fail_start"]
"""The step that failed; the report carries the reason."""

SliverActualState = Literal[SliverRung, SliverFailure]

SliverState = Literal[SliverActualState, "offline"]
"""As the provisioner shows it: the box's report, or ``offline`` while the monitor says the
box is unreachable (``offline`` is the provisioner's, never the box's)."""

SLIVER_RUNGS: tuple[SliverRung, ...] = get_args(SliverRung)
SLIVER_FAILURES: tuple[SliverFailure, ...] = get_args(SliverFailure)
SLIVER_STATES: tuple[SliverState, ...] = get_args(SliverState)

REACHES: dict[SetState, SliverRung] = {
    "register": "registered",
    "deploy": "deployed",
    "start": "started",
}
"""The actual state that fulfils each set state."""

FAILS_AS: dict[SliverRung, SliverFailure] = {
    "registered": "fail_allocate",
    "allocated": "fail_allocate",
    "deployed": "fail_deploy",
    "started": "fail_start",
}
"""The failure of the step that climbs to each rung (or, for ``registered``, that does not
come back down to it)."""

HOLDING: frozenset[SliverActualState] = frozenset(
    {"allocated", "deployed", "started", "fail_start"}
)
"""States in which a sliver holds its reservation on the box (and, but for ``allocated``, a
container: a failed start leaves the container made)."""


def sliver_failed(state: str) -> bool:
    return state in SLIVER_FAILURES


def sliver_settled(state: str, wanted: SetState) -> bool:
    """Reached what it is asked to be, or gave up (a ``fail_*`` state)."""
    return state == REACHES[wanted] or sliver_failed(state)


def failure_state(actual: SliverState, target: SliverRung) -> SliverFailure:
    """The ``fail_*`` of the next rung toward ``target`` (or of ``target`` itself)."""
    if actual in SLIVER_RUNGS and SLIVER_RUNGS.index(actual) < SLIVER_RUNGS.index(target):
        return FAILS_AS[SLIVER_RUNGS[SLIVER_RUNGS.index(actual) + 1]]
    return FAILS_AS[target]


# -- a box, as the provisioner keeps it ----------------------------------------------------

BoxState = Literal["registered", "configured", "deploying", "ready", "failed"]
"""``configured``: it has credentials and its agent may connect; ``deploying`` / ``ready``
/ ``failed``: what became of the distro it was given."""

BOX_STATES: tuple[BoxState, ...] = get_args(BoxState)

BOX_TRANSITIONS: dict[BoxState | None, frozenset[BoxState]] = {
    None: frozenset({"registered"}),
    "registered": frozenset({"configured", "failed"}),
    "configured": frozenset({"deploying", "ready", "failed"}),
    "deploying": frozenset({"ready", "failed"}),
    "ready": frozenset({"deploying", "failed"}),
    "failed": frozenset({"deploying", "ready"}),
}
"""Where a box may go from each state (``None``: a box not yet registered)."""


def box_may_move(current: BoxState | None, to_state: BoxState) -> bool:
    return to_state in BOX_TRANSITIONS[current]


# -- an agent's own state (its platform distro) ------------------------------------------

AgentState = Literal["idle", "deploying", "running", "failed"]

AGENT_STATES: tuple[AgentState, ...] = get_args(AgentState)
