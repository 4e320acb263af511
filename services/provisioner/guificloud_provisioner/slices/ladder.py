"""The sliver ladder: what a set state asks of a box, and recording the actual state.

Every change of a sliver's actual state is recorded as a transition and published as
``provisioner.sliver.<state>``; the reconciler's clock (``next_check_at``) restarts with it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from guificloud.db.uow import UnitOfWork
from guificloud.events.provisioner import SliverStateChanged
from guificloud.states import SetState, SliverState, effective_set_state, sliver_settled
from guificloud_provisioner.settings import ProvisionerSettings
from guificloud_provisioner.slices.models import Slice, Sliver, SliverTransition


def effective(sliver: Sliver, slice_: Slice) -> SetState:
    own = sliver.set_state or slice_.set_state
    return effective_set_state(own, slice_.set_state)


def settled(sliver: Sliver, slice_: Slice) -> bool:
    """Reached what it should be, or gave up (a ``fail_*`` state); a removing one never."""
    if sliver.removing:
        return False
    return sliver_settled(sliver.state, effective(sliver, slice_))


def backoff(settings: ProvisionerSettings, attempts: int) -> float:
    return min(settings.reconcile_backoff_s * 2.0**attempts, settings.reconcile_backoff_max_s)


def recheck(sliver: Sliver, slice_: Slice, settings: ProvisionerSettings) -> None:
    """Restart the sliver's reconciliation clock after a change (desired or actual)."""
    sliver.attempts = 0
    sliver.gave_up = False
    if settled(sliver, slice_):
        sliver.next_check_at = None
    else:
        sliver.next_check_at = datetime.now(UTC) + timedelta(seconds=backoff(settings, 0))


def move(uow: UnitOfWork, sliver: Sliver, state: SliverState, reason: str | None = None) -> bool:
    """Set the actual state; False when nothing changed."""
    previous = sliver.state
    if state == previous and reason == sliver.reason:
        return False
    now = datetime.now(UTC)
    sliver.state, sliver.reason, sliver.updated_at = state, reason, now
    uow.session.add(
        SliverTransition(
            sliver_id=sliver.id, from_state=previous, to_state=state, reason=reason, at=now
        )
    )
    if state != previous:
        uow.emit(
            SliverStateChanged(
                sliver_id=sliver.id,
                slice_id=sliver.slice_id,
                box_id=sliver.box_id,
                state=state,
                previous=previous,
                instance=sliver.instance,
                reason=reason,
            )
        )
    return True
