"""Events of the provisioner about boxes, and the commands it sends to them."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from guificloud.events.envelope import Event

BoxState = Literal["registered", "configured", "deploying", "ready", "failed"]


class BoxRegistered(Event):
    TYPE = "provisioner.box.registered"
    SUBJECT = "provisioner.box.registered"

    box_id: UUID
    device_id: UUID
    node_id: UUID
    zone_id: UUID
    arch: str


class BoxConfigured(Event):
    """The box has its configuration and credentials; its agent may connect."""

    TYPE = "provisioner.box.configured"
    SUBJECT = "provisioner.box.configured"

    box_id: UUID
    node_id: UUID
    subject_prefix: str


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
