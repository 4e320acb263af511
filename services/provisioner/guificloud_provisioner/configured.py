"""The ``configured`` state: a box with its credentials, waiting for a distro it can run.

While no distro fits it, the box says why in its ``reason``; once it is given one, the reason
is cleared. Both are transitions (``configured`` to ``configured`` with another reason), so
they show in the box's history and go out as ``provisioner.box.configured`` in the box's
onboarding flow.
"""

from __future__ import annotations

from guificloud.db.uow import UnitOfWork
from guificloud.events.provisioner import BoxConfigured
from guificloud_provisioner.models import Box
from guificloud_provisioner.settings import ProvisionerSettings
from guificloud_provisioner.states import transition


def no_distro(settings: ProvisionerSettings, arch: str) -> str:
    return f"no {settings.distro_name} ({settings.distro_channel}) published for arch {arch}"


def enter(uow: UnitOfWork, box: Box, reason: str | None) -> None:
    """Move ``box`` to ``configured`` with ``reason``; the event goes out only on a change."""
    if transition(uow, box, "configured", reason):
        uow.emit(
            BoxConfigured(
                box_id=box.id, node_id=box.node_id, subject_prefix=f"agent.{box.id}", reason=reason
            ),
            correlation_id=box.correlation_id,
        )
