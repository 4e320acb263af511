"""Box states and the transitions allowed between them."""

from __future__ import annotations

from datetime import UTC, datetime

from guificloud.db.uow import UnitOfWork
from guificloud_provisioner.models import Box, BoxTransition

ALLOWED: dict[str | None, frozenset[str]] = {
    None: frozenset({"registered"}),
    "registered": frozenset({"configured", "failed"}),
    "configured": frozenset({"deploying", "ready", "failed"}),
    "deploying": frozenset({"ready", "failed"}),
    "ready": frozenset({"deploying", "failed"}),
    "failed": frozenset({"deploying", "ready"}),
}


def transition(uow: UnitOfWork, box: Box, to_state: str, reason: str | None = None) -> bool:
    """Move ``box`` to ``to_state`` and record it; False (nothing done) if not allowed or no-op."""
    current = box.state if box.state else None
    if to_state == current and reason == box.reason:
        return False
    if to_state != current and to_state not in ALLOWED.get(current, frozenset()):
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
