"""Moving boxes that run a distro to another one, when an operator says so.

A publication reaches only boxes with no distro (see ``image_catalogue``); until staged
roll-outs exist, an operator picks the boxes that move, one or a list or all, and the version
(the current one by default). Each box gets the image built for its arch, else one of arch
``all``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from sqlalchemy import select

from guificloud.db.uow import UnitOfWork
from guificloud.errors import Conflict, NotFound
from guificloud.logging import get_logger
from guificloud_provisioner import distro_choice
from guificloud_provisioner.models import Box
from guificloud_provisioner.settings import ProvisionerSettings

log = get_logger(__name__)


@dataclass(frozen=True)
class Moved:
    box_id: UUID
    version: str
    digest: str
    changed: bool


async def assign_distro(
    uow: UnitOfWork,
    settings: ProvisionerSettings,
    box_ids: Sequence[UUID] | None,
    version: str | None,
) -> list[Moved]:
    """Give each box (every configured box when ``box_ids`` is None) the distro ``version``
    (the current one when None); the caller commits. All or none: a box that cannot take
    it refuses the whole request with the reason."""
    stmt = select(Box).where(Box.state != "registered").order_by(Box.created_at).with_for_update()
    if box_ids is not None:
        stmt = select(Box).where(Box.id.in_(box_ids)).order_by(Box.created_at).with_for_update()
    boxes = list(await uow.session.scalars(stmt))
    if box_ids is not None:
        missing = set(box_ids) - {box.id for box in boxes}
        if missing:
            raise NotFound(f"no box {', '.join(sorted(str(m) for m in missing))}")
    moved: list[Moved] = []
    for box in boxes:
        if box.state == "registered":
            raise Conflict(f"box {box.id} is not configured yet; it gets a distro then")
        image = await distro_choice.current_distro(uow, settings, box.arch, version=version)
        if image is None:
            which = f"version {version}" if version else "any version"
            raise Conflict(
                f"no active {settings.distro_name} ({which}, channel {settings.distro_channel})"
                f" for box {box.id} of arch {box.arch}"
            )
        changed = distro_choice.assign(uow, box, distro_choice.spec_of(image, settings))
        moved.append(Moved(box.id, image.version, image.digest, changed))
        log.info("box.distro_assigned", box_id=str(box.id), version=image.version, changed=changed)
    return moved
