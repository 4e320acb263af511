"""What a box's report says of its slivers (``AgentReported.slivers``, the whole set).

A status of an older instance is about a sliver that a reset replaced: ignored. A sliver
the box does not list is, when the report is about the box's current desired state,
simply not there (``registered``), and a sliver being removed is gone for good. Once the
reconciler gave a sliver up (``fail_*``), only success or the box's own failure moves it.
"""

from __future__ import annotations

from sqlalchemy import select

from guificloud.db.uow import UnitOfWork
from guificloud.events.agent import AgentReported
from guificloud.states import REACHES, SliverState, sliver_failed
from guificloud_provisioner.models import Box
from guificloud_provisioner.settings import ProvisionerSettings
from guificloud_provisioner.slices.desired import refresh_settled
from guificloud_provisioner.slices.ladder import effective, move, recheck
from guificloud_provisioner.slices.models import Slice, Sliver
from guificloud_provisioner.slices.removal import finish_removal


async def apply_report(
    uow: UnitOfWork, settings: ProvisionerSettings, box: Box, event: AgentReported
) -> None:
    """``box`` is locked by the caller; its generation is the current desired state's."""
    current = event.generation >= box.generation
    reported = {s.sliver_id: s for s in event.slivers}
    rows = await uow.session.execute(
        select(Sliver, Slice)
        .join(Slice, Slice.id == Sliver.slice_id)
        .where(Sliver.box_id == box.id)
        .order_by(Sliver.id)
        .with_for_update(of=Sliver)
    )
    touched = set()
    for sliver, slice_ in rows.tuples():
        status = reported.get(sliver.id)
        state: SliverState
        if sliver.removing:
            if status is None:
                await finish_removal(uow, sliver)
                touched.add(slice_.id)
            continue
        if status is None:
            if not current:
                continue
            state, reason = "registered", None
        elif status.instance != sliver.instance:
            continue
        else:
            state, reason = status.state, status.reason
        target = REACHES[effective(sliver, slice_)]
        if sliver.gave_up and state != target and not sliver_failed(state):
            continue
        if move(uow, sliver, state, reason):
            recheck(sliver, slice_, settings)
            touched.add(slice_.id)
    await refresh_settled(uow, touched)
