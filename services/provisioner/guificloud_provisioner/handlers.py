"""What the provisioner does with the events it consumes.

Each handler takes one event and the unit of work; the consumer layer commits, records the
event id in the inbox (idempotence) and turns failures into retries or dead letters.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import update

from guificloud.db.uow import UnitOfWork
from guificloud.errors import PermanentFailure
from guificloud.events.agent import AgentReported
from guificloud.events.provisioner import BoxDeploying, BoxFailed, BoxReady, BoxRegistered
from guificloud.events.registry import CLOUD_DEVICE_TYPES, DeviceAdded, NodeOwnerChanged
from guificloud.logging import get_logger
from guificloud_provisioner import configured, distro_choice
from guificloud_provisioner.models import Box
from guificloud_provisioner.settings import ProvisionerSettings
from guificloud_provisioner.slices.reports import apply_report
from guificloud_provisioner.states import transition

log = get_logger(__name__)


async def handle_device_added(
    event: DeviceAdded, uow: UnitOfWork, *, settings: ProvisionerSettings
) -> None:
    """A cloud device becomes a box: registered, configured, given a distro (its token is
    issued with its configuration, ``GET /boxes/{id}/config``)."""
    if event.type not in CLOUD_DEVICE_TYPES:
        return
    if event.hardware is None:
        raise PermanentFailure(f"cloud device {event.device_id} has no hardware")
    if await uow.session.get(Box, event.device_id) is not None:
        return
    hw = event.hardware
    box = Box(
        id=event.device_id,
        node_id=event.node_id,
        zone_id=event.zone_id,
        name=event.name,
        device_type=event.type,
        arch=hw.arch,
        cores=hw.cores,
        ram_mb=hw.ram_mb,
        disk_gb=hw.disk_gb,
        state=None,
        generation=0,
        owner_account_id=event.owner.owner_account_id,
        owner_group_id=event.owner.owner_group_id,
    )
    uow.session.add(box)
    transition(uow, box, "registered")
    registered = uow.emit(
        BoxRegistered(
            box_id=box.id,
            device_id=event.device_id,
            node_id=box.node_id,
            zone_id=box.zone_id,
            arch=box.arch,
        )
    )
    box.correlation_id = registered.correlation_id

    image = await distro_choice.current_distro(uow, settings, box.arch)
    configured.enter(uow, box, None if image else configured.no_distro(settings, box.arch))
    if image is not None:
        distro_choice.assign(uow, box, distro_choice.spec_of(image, settings))
    log.info(
        "box.configured",
        box_id=str(box.id),
        node_id=str(box.node_id),
        distro=image.digest if image else None,
    )


async def handle_node_owner_changed(event: NodeOwnerChanged, uow: UnitOfWork) -> None:
    """Every box of the node passes to its new owners (who may then see its credentials).
    Handled in order with the node's devices (one consumer, one partition per node)."""
    await uow.session.execute(
        update(Box)
        .where(Box.node_id == event.node_id)
        .values(
            owner_account_id=event.owner.owner_account_id,
            owner_group_id=event.owner.owner_group_id,
        )
        .execution_options(synchronize_session=False)
    )
    log.info("box.owners_changed", node_id=str(event.node_id))


async def handle_agent_reported(
    event: AgentReported, uow: UnitOfWork, *, settings: ProvisionerSettings
) -> None:
    """The agent's actual state drives the box's state toward ``ready`` or ``failed``, and
    each sliver's actual state (see :mod:`guificloud_provisioner.slices.reports`)."""
    box = await uow.session.get(Box, event.box_id, with_for_update=True)
    if box is None:
        raise PermanentFailure(f"report from unknown box {event.box_id}")
    box.agent_state = event.state
    box.actual_digest = event.distro_digest
    box.last_report_at = datetime.now(UTC)
    await apply_report(uow, settings, box, event)
    desired = (box.desired_distro or {}).get("digest")
    if event.generation < box.generation and event.state != "running":
        return  # about an older desired state; the agent has been told of the new one
    flow = box.correlation_id  # the report moves the box's onboarding on
    if event.state == "deploying" and desired is not None:
        if transition(uow, box, "deploying"):
            uow.emit(BoxDeploying(box_id=box.id, distro_digest=str(desired)), correlation_id=flow)
    elif event.state == "running" and event.distro_digest == desired and desired is not None:
        if transition(uow, box, "ready"):
            uow.emit(BoxReady(box_id=box.id, distro_digest=desired), correlation_id=flow)
    elif event.state == "failed":
        reason = event.reason or "the agent reported a failure without a reason"
        if transition(uow, box, "failed", reason):
            uow.emit(BoxFailed(box_id=box.id, reason=reason), correlation_id=flow)
