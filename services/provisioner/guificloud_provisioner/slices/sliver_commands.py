"""Changes to one sliver: one more on an explicit box, its overrides, its removal."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy import select

from guificloud.db.uow import UnitOfWork
from guificloud.errors import Conflict, InvalidInput
from guificloud.events.provisioner import SliverUpdated
from guificloud_provisioner import distro_choice
from guificloud_provisioner.access import Guard
from guificloud_provisioner.models import Box
from guificloud_provisioner.settings import ProvisionerSettings
from guificloud_provisioner.slices import image_builds, placement, quotas
from guificloud_provisioner.slices.commands import get_slice
from guificloud_provisioner.slices.create import add_slivers, placement_request
from guificloud_provisioner.slices.desired import refresh_settled, sync_boxes
from guificloud_provisioner.slices.ladder import recheck
from guificloud_provisioner.slices.locks import lock_sliver
from guificloud_provisioner.slices.models import Slice, Sliver
from guificloud_provisioner.slices.removal import start_removal
from guificloud_provisioner.slices.schemas import ImageRef, SliverPatch


async def get_sliver(uow: UnitOfWork, sliver_id: UUID, *, guard: Guard) -> Sliver:
    sliver = await uow.get(Sliver, sliver_id, "sliver")
    guard((await slice_of(uow, sliver)).group_id)
    return sliver


async def add_sliver(
    uow: UnitOfWork, settings: ProvisionerSettings, slice_id: UUID, box_id: UUID, *, guard: Guard
) -> Sliver:
    """Within the group's quota (its row locked first: see :mod:`.quotas`)."""
    slice_ = await get_slice(uow, slice_id, guard=guard)
    if slice_.group_id is not None:
        one = quotas.Use.of(1, memory_mb=slice_.memory_mb, disk_mb=slice_.disk_mb)
        await quotas.admit(uow, slice_.group_id, one)
    taken = await uow.session.scalar(
        select(Sliver.id).where(Sliver.slice_id == slice_id, Sliver.box_id == box_id)
    )
    if taken is not None:
        raise Conflict(f"the slice already has sliver {taken} on box {box_id}", field="box_id")
    arches = (
        None if not slice_.image_pinned else await _pinned_arches(uow, slice_.image_digest)
    ) or await image_builds.arches(uow, slice_.image_name, slice_.image_version)
    request = placement_request(slice_, None, 1)
    await placement.place_explicit(uow, settings, [box_id], request, arches, field="box_id")
    await uow.session.refresh(slice_, with_for_update=True)
    if slice_.deleted_at is not None:
        raise Conflict(f"slice {slice_id} is being deleted")
    (sliver,) = await add_slivers(uow, settings, slice_, [box_id])
    return sliver


async def _pinned_arches(uow: UnitOfWork, digest: str) -> set[str] | None:
    image = await image_builds.by_digest(uow, digest, "image")
    return None if image.arch == "all" else {image.arch}


async def _image_for(
    uow: UnitOfWork, settings: ProvisionerSettings, ref: ImageRef, arch: str
) -> dict[str, object]:
    if ref.digest is not None:
        image = await image_builds.by_digest(uow, ref.digest, "image.digest")
        if image.arch not in (arch, "all"):
            raise InvalidInput(f"image {ref.digest} is {image.arch}, the box {arch}", field="image")
    else:
        assert ref.name is not None
        found = await image_builds.newest(uow, ref.name, ref.version, arch)
        if found is None:
            raise InvalidInput(f"no published image {ref.name} for {arch}", field="image")
        image = found
    return distro_choice.spec_of(image, settings).model_dump(mode="json")


async def patch_sliver(
    uow: UnitOfWork,
    settings: ProvisionerSettings,
    sliver_id: UUID,
    data: SliverPatch,
    *,
    guard: Guard,
) -> Sliver:
    sliver, slice_ = await lock_sliver(uow, sliver_id, guard=guard)
    if slice_.deleted_at is not None:
        raise Conflict(f"slice {slice_.id} is being deleted")
    if sliver.removing:
        raise Conflict(f"sliver {sliver_id} is being removed")
    fields = data.model_fields_set
    changed: dict[str, object] = {}
    if "set_state" in fields and data.set_state != sliver.set_state:
        sliver.set_state = changed["set_state"] = data.set_state
    if "image" in fields:
        box = await uow.session.get(Box, sliver.box_id)
        assert box is not None
        if data.image is not None:
            image = await _image_for(uow, settings, data.image, box.arch)
        else:
            spec = await image_builds.for_box(
                uow,
                settings,
                name=slice_.image_name,
                version=slice_.image_version,
                digest=slice_.image_digest if slice_.image_pinned else None,
                arch=box.arch,
            )
            if spec is None:
                raise Conflict("the slice's image has no build for this box any more")
            image = spec.model_dump(mode="json")
        if image != sliver.image:
            sliver.image = image
            changed["image_digest"] = image["digest"]
        sliver.image_override = data.image is not None
    if changed:
        sliver.updated_at = datetime.now(UTC)
        recheck(sliver, slice_, settings)
        uow.emit(
            SliverUpdated(
                sliver_id=sliver.id, slice_id=slice_.id, box_id=sliver.box_id, changed=changed
            )
        )
        await sync_boxes(uow, [sliver.box_id])
        await refresh_settled(uow, [slice_.id])
    return sliver


async def delete_sliver(
    uow: UnitOfWork, settings: ProvisionerSettings, sliver_id: UUID, *, guard: Guard
) -> None:
    sliver, _ = await lock_sliver(uow, sliver_id, guard=guard)
    if start_removal(sliver, "deleted by its owner", settings):
        await sync_boxes(uow, [sliver.box_id])
        await refresh_settled(uow, [sliver.slice_id])


async def slice_of(uow: UnitOfWork, sliver: Sliver) -> Slice:
    slice_ = await uow.session.get(Slice, sliver.slice_id)
    assert slice_ is not None
    return slice_
