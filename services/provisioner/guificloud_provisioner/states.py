"""Recording a box's moves between states (the states and the moves allowed are
:mod:`guificloud.states`)."""

from __future__ import annotations

from datetime import UTC, datetime

from guificloud.db.uow import UnitOfWork
from guificloud.states import BoxState, box_may_move
from guificloud_provisioner.models import Box, BoxTransition


def transition(uow: UnitOfWork, box: Box, to_state: BoxState, reason: str | None = None) -> bool:
    """Move ``box`` to ``to_state`` and record it; False (nothing done) if not allowed or no-op."""
    current = box.state if box.state else None
    if to_state == current and reason == box.reason:
        return False
    if to_state != current and not box_may_move(current, to_state):
        return False
    box.state = to_state
    box.reason = reason
    box.updated_at = datetime.now(UTC)
    uow.session.add(
        BoxTransition(
            box_id=box.id,
            from_state=current,
            to_state=to_state,
            reason=reason,
            at=datetime.now(UTC),
        )
    )
    return True
