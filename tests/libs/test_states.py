"""The states and ladders of ``guificloud.states`` hang together, and every view of them
(events, database columns, the provisioner, the agent, the CLI) agrees with them."""

from __future__ import annotations

import itertools
from types import SimpleNamespace
from typing import Any, cast
from uuid import uuid4

import pytest
from pydantic import BaseModel
from sqlalchemy import Column, String

from guificloud import states
from guificloud.boxes import SliverSpec
from guificloud.db.uow import UnitOfWork
from guificloud.events.agent import AgentReported, SliverStatus
from guificloud.events.provisioner import (
    SliceCreated,
    SliceSettled,
    SliverCreated,
    SliverStateChanged,
)
from guificloud_agent.sliver_records import SliverRecord
from guificloud_cli import slice_cmds
from guificloud_provisioner.models import Box, BoxTransition
from guificloud_provisioner.slices.models import Slice, Sliver, SliverTransition
from guificloud_provisioner.states import transition

pytestmark = pytest.mark.unit

ACTUAL = (*states.SLIVER_RUNGS, *states.SLIVER_FAILURES)


def enum_of(model: type[BaseModel], field: str) -> list[str]:
    """The values a model's field accepts, as its JSON schema (and so AsyncAPI) says."""
    prop = model.model_json_schema()["properties"][field]
    for choice in [prop, *prop.get("anyOf", [])]:
        if "enum" in choice:
            return list(choice["enum"])
    raise AssertionError(f"{model.__name__}.{field} is not a closed set of states: {prop}")


def test_every_sliver_state_is_a_rung_a_failure_or_offline() -> None:
    assert states.SLIVER_STATES == (*ACTUAL, "offline")
    assert len(set(states.SLIVER_STATES)) == len(states.SLIVER_STATES)


def test_each_set_state_is_reached_by_a_rung_in_the_same_order() -> None:
    assert set(states.REACHES) == set(states.SET_STATES)
    rungs = [states.SLIVER_RUNGS.index(states.REACHES[s]) for s in states.SET_STATES]
    assert rungs == sorted(rungs) and len(set(rungs)) == len(rungs)


def test_every_rung_has_the_failure_of_its_step_and_every_failure_is_one() -> None:
    assert set(states.FAILS_AS) == set(states.SLIVER_RUNGS)
    assert set(states.FAILS_AS.values()) == set(states.SLIVER_FAILURES)
    assert states.HOLDING <= set(ACTUAL)


def test_a_sliver_lowers_its_slice_state_never_raises_it() -> None:
    for sliver, slice_ in itertools.product(states.SET_STATES, repeat=2):
        lower = min(states.SET_STATES.index(sliver), states.SET_STATES.index(slice_))
        assert states.effective_set_state(sliver, slice_) == states.SET_STATES[lower]


@pytest.mark.parametrize(
    ("actual", "target", "failure"),
    [
        ("registered", "started", "fail_allocate"),
        ("allocated", "started", "fail_deploy"),
        ("deployed", "started", "fail_start"),
        ("started", "deployed", "fail_deploy"),
        ("offline", "deployed", "fail_deploy"),
        ("fail_start", "registered", "fail_allocate"),
    ],
)
def test_giving_up_names_the_step_not_reached(actual: str, target: str, failure: str) -> None:
    assert states.failure_state(cast(states.SliverState, actual), cast(Any, target)) == failure


def test_box_transitions_go_between_box_states_and_reach_them_all() -> None:
    assert set(states.BOX_TRANSITIONS) == {None, *states.BOX_STATES}
    for targets in states.BOX_TRANSITIONS.values():
        assert targets <= set(states.BOX_STATES)
    seen: set[states.BoxState | None] = {None}
    frontier: list[states.BoxState | None] = [None]
    while frontier:
        for nxt in states.BOX_TRANSITIONS[frontier.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                frontier.append(nxt)
    assert seen == {None, *states.BOX_STATES}


def test_events_accept_exactly_the_states_defined() -> None:
    assert enum_of(SliverStatus, "state") == list(ACTUAL)
    assert enum_of(SliverStateChanged, "state") == list(states.SLIVER_STATES)
    assert enum_of(SliverStateChanged, "previous") == list(states.SLIVER_STATES)
    assert enum_of(AgentReported, "state") == list(states.AGENT_STATES)
    for model in (SliceCreated, SliverCreated, SliceSettled, SliverSpec):
        assert enum_of(model, "set_state") == list(states.SET_STATES), model.__name__


@pytest.mark.parametrize(
    ("column", "values"),
    [
        (Box.__table__.c.state, states.BOX_STATES),
        (BoxTransition.__table__.c.to_state, states.BOX_STATES),
        (Box.__table__.c.agent_state, states.AGENT_STATES),
        (Slice.__table__.c.set_state, states.SET_STATES),
        (Sliver.__table__.c.set_state, states.SET_STATES),
        (Sliver.__table__.c.state, states.SLIVER_STATES),
        (SliverTransition.__table__.c.to_state, states.SLIVER_STATES),
    ],
)
def test_every_state_fits_its_column(column: Column[Any], values: tuple[str, ...]) -> None:
    assert isinstance(column.type, String) and column.type.length is not None
    assert max(map(len, values)) <= column.type.length, column


def test_the_provisioner_moves_a_box_only_as_the_transitions_allow() -> None:
    for current, to_state in itertools.product([None, *states.BOX_STATES], states.BOX_STATES):
        added: list[object] = []
        uow = cast(UnitOfWork, SimpleNamespace(session=SimpleNamespace(add=added.append)))
        box = Box(id=uuid4(), state=current, reason=None)
        moved = transition(uow, box, to_state)
        allowed = to_state == current or to_state in states.BOX_TRANSITIONS[current]
        assert moved == (allowed and to_state != current), (current, to_state)
        assert box.state == (to_state if moved else current)


def test_the_cli_and_the_agent_read_states_as_the_provisioner_does() -> None:
    for wanted, actual in itertools.product(states.SET_STATES, states.SLIVER_STATES):
        sliver = {"effective_set_state": wanted, "state": actual}
        assert slice_cmds.settled([sliver]) == states.sliver_settled(actual, wanted)
    for actual in ACTUAL:
        record = SliverRecord(
            sliver_id=uuid4(),
            instance=0,
            image_digest="sha256:" + "0" * 64,
            memory_mb=64,
            disk_mb=64,
            cpu_share=1.0,
            state=actual,
            wanted="start",
        )
        assert record.failed == states.sliver_failed(actual)
