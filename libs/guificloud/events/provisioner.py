"""Events of the provisioner about boxes, and the commands it sends to them."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from guificloud.events.envelope import Event
from guificloud.states import SetState, SliverState


class BoxRegistered(Event):
    TYPE = "provisioner.box.registered"
    SUBJECT = "provisioner.box.registered"

    box_id: UUID
    device_id: UUID
    node_id: UUID
    zone_id: UUID
    arch: str


class BoxConfigured(Event):
    """The box has its configuration and credentials; its agent may connect.

    ``reason`` says why it waits (no distro it could run); sent again, null, when it stops."""

    TYPE = "provisioner.box.configured"
    SUBJECT = "provisioner.box.configured"

    box_id: UUID
    node_id: UUID
    subject_prefix: str
    reason: str | None = None


class BoxDeploying(Event):
    TYPE = "provisioner.box.deploying"
    SUBJECT = "provisioner.box.deploying"

    box_id: UUID
    distro_digest: str


class BoxReady(Event):
    TYPE = "provisioner.box.ready"
    SUBJECT = "provisioner.box.ready"

    box_id: UUID
    distro_digest: str


class BoxFailed(Event):
    TYPE = "provisioner.box.failed"
    SUBJECT = "provisioner.box.failed"

    box_id: UUID
    reason: str


class BoxSync(Event):
    """Command: the box's desired state changed; its agent fetches it again."""

    TYPE = "box.sync.requested"
    SUBJECT = "box.{box_id}.sync"

    box_id: UUID
    generation: int


# -- slices and slivers ------------------------------------------------------------------


class SliceCreated(Event):
    TYPE = "provisioner.slice.created"
    SUBJECT = "provisioner.slice.created"

    slice_id: UUID
    name: str
    owner_group: str
    """The group's name when the slice was made."""
    image_digest: str
    set_state: SetState
    instance: int
    expires_at: datetime
    group_id: UUID | None = None
    """The group the slice belongs to (None: a slice made before groups)."""


class SliceUpdated(Event):
    """Desired state or description changed; ``changed`` holds the new values by field."""

    TYPE = "provisioner.slice.updated"
    SUBJECT = "provisioner.slice.updated"

    slice_id: UUID
    changed: dict[str, Any]


class SliceRenewed(Event):
    TYPE = "provisioner.slice.renewed"
    SUBJECT = "provisioner.slice.renewed"

    slice_id: UUID
    expires_at: datetime


class SliceExpiring(Event):
    """The owner's warning: the slice will be deleted at ``expires_at`` unless renewed."""

    TYPE = "provisioner.slice.expiring"
    SUBJECT = "provisioner.slice.expiring"

    slice_id: UUID
    owner_group: str
    expires_at: datetime
    group_id: UUID | None = None
    """The group the slice belongs to (None: a slice made before groups)."""


class SliceReset(Event):
    """Every sliver is redeployed from scratch as ``instance``."""

    TYPE = "provisioner.slice.reset"
    SUBJECT = "provisioner.slice.reset"

    slice_id: UUID
    instance: int


class SliceSettled(Event):
    """Every sliver reached its desired state or failed (``failed`` counts the failures)."""

    TYPE = "provisioner.slice.settled"
    SUBJECT = "provisioner.slice.settled"

    slice_id: UUID
    set_state: SetState
    slivers: int
    failed: int


class SliceDeleted(Event):
    """Deleted by its owner or on expiry; its slivers are removed from their boxes."""

    TYPE = "provisioner.slice.deleted"
    SUBJECT = "provisioner.slice.deleted"

    slice_id: UUID
    reason: str


class SliverCreated(Event):
    """Placed on a box (also a replacement for a sliver on a lost box: ``replaces``)."""

    TYPE = "provisioner.sliver.created"
    SUBJECT = "provisioner.sliver.created"

    sliver_id: UUID
    slice_id: UUID
    box_id: UUID
    image_digest: str
    set_state: SetState
    memory_mb: int
    disk_mb: int
    cpu_share: float
    replaces: UUID | None = None


class SliverUpdated(Event):
    """Desired state of one sliver changed (its override, its image, its instance)."""

    TYPE = "provisioner.sliver.updated"
    SUBJECT = "provisioner.sliver.updated"

    sliver_id: UUID
    slice_id: UUID
    box_id: UUID
    changed: dict[str, Any]


class SliverStateChanged(Event):
    """The actual state moved; the subject names the new state, so a subscriber may take
    only ``provisioner.sliver.started`` or ``provisioner.sliver.fail_start``."""

    TYPE = "provisioner.sliver.state_changed"
    SUBJECT = "provisioner.sliver.{state}"

    sliver_id: UUID
    slice_id: UUID
    box_id: UUID
    state: SliverState
    previous: SliverState | None = None
    instance: int
    reason: str | None = None


class SliverDeleted(Event):
    TYPE = "provisioner.sliver.deleted"
    SUBJECT = "provisioner.sliver.deleted"

    sliver_id: UUID
    slice_id: UUID
    box_id: UUID
    image_digest: str
    reason: str
