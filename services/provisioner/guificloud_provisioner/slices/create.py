"""Creating a slice: resolve its image, admit it within its group's quotas, place its
slivers, hold their capacity, tell boxes.

Everything happens in the caller's transaction: a placement that cannot be satisfied
leaves nothing behind (no slice, no reservation), and the group's row stays locked until
the slice is committed (see :mod:`guificloud_provisioner.slices.quotas`). Who may create
is the API's to check (:mod:`guificloud_provisioner.access`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from sqlalchemy import select

from guificloud.boxes import DistroSpec
from guificloud.db.uow import UnitOfWork
from guificloud.errors import Conflict, InvalidInput
from guificloud.events.provisioner import SliceCreated, SliverCreated
from guificloud.logging import get_logger
from guificloud_provisioner.models import Box
from guificloud_provisioner.settings import ProvisionerSettings
from guificloud_provisioner.slices import image_builds, placement, quotas
from guificloud_provisioner.slices.desired import refresh_settled, sync_boxes
from guificloud_provisioner.slices.ladder import recheck
from guificloud_provisioner.slices.models import Slice, Sliver, SliverTransition
from guificloud_provisioner.slices.scheduler import PlacementRequest
from guificloud_provisioner.slices.schemas import SliceIn

log = get_logger(__name__)


async def _resolve_image(
    uow: UnitOfWork, data: SliceIn
) -> tuple[str, str, str, bool, set[str] | None]:
    """name, version, digest, pinned, and the arches the slivers may run on (None: any)."""
    ref = data.image
    if ref.digest is not None:
        pinned = await image_builds.by_digest(uow, ref.digest, "image.digest")
        return (
            pinned.name,
            pinned.version,
            pinned.digest,
            True,
            (None if pinned.arch == "all" else {pinned.arch}),
        )
    assert ref.name is not None
    image = await image_builds.newest(uow, ref.name, ref.version, data.placement.arch)
    if image is None:
        what = ref.name + (f" {ref.version}" if ref.version else "")
        arch = f" for {data.placement.arch}" if data.placement.arch else ""
        raise InvalidInput(f"no published image {what}{arch}", field="image")
    return (
        image.name,
        image.version,
        image.digest,
        False,
        await image_builds.arches(uow, image.name, image.version),
    )


def placement_request(
    slice_: Slice, zone_ids: frozenset[UUID] | None, count: int
) -> PlacementRequest:
    p = slice_.placement
    return PlacementRequest(
        count=count,
        memory_mb=slice_.memory_mb,
        disk_mb=slice_.disk_mb,
        arch=p.get("arch"),
        zone_ids=zone_ids,
        min_free_memory_mb=p.get("min_free_memory_mb") or 0,
        min_free_disk_mb=p.get("min_free_disk_mb") or 0,
        spread=p.get("spread", True) if p.get("count") is not None else False,
    )


async def zone_ids_of(uow: UnitOfWork, slice_: Slice) -> frozenset[UUID] | None:
    zone_id = slice_.placement.get("zone_id")
    return await placement.zone_subtree(uow, UUID(str(zone_id))) if zone_id else None


async def create_slice(uow: UnitOfWork, settings: ProvisionerSettings, data: SliceIn) -> Slice:
    if data.expires_in_days > settings.slice_expiry_days:
        raise InvalidInput(
            f"a slice lives at most {settings.slice_expiry_days:g} days (renewable)",
            field="expires_in_days",
        )
    name, version, digest, pinned, arches = await _resolve_image(uow, data)
    boxes_named, defaults = data.placement.boxes, data.sliver_defaults
    count = len(boxes_named) if boxes_named is not None else data.placement.count or 0
    asked = quotas.Use.of(count, memory_mb=defaults.memory_mb, disk_mb=defaults.disk_mb)
    group = await quotas.admit(uow, data.group_id, asked)
    now = datetime.now(UTC)
    slice_ = Slice(
        id=uuid4(),
        name=data.name,
        description=data.description,
        group_id=group.id,
        owner_group=group.name,
        image_name=name,
        image_version=version,
        image_digest=digest,
        image_pinned=pinned,
        memory_mb=data.sliver_defaults.memory_mb,
        disk_mb=data.sliver_defaults.disk_mb,
        cpu_share=data.sliver_defaults.cpu_share,
        placement=data.placement.model_dump(mode="json", exclude_none=True),
        replace_on_loss=data.replace_on_loss,
        set_state=data.set_state,
        instance=0,
        settled=False,
        expires_at=now + timedelta(days=data.expires_in_days),
        expiry_warned=False,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(slice_)
    await uow.session.flush()
    if data.placement.boxes is not None:
        request = placement_request(slice_, None, len(data.placement.boxes))
        boxes = await placement.place_explicit(uow, settings, data.placement.boxes, request, arches)
    else:
        request = placement_request(
            slice_, await zone_ids_of(uow, slice_), data.placement.count or 0
        )
        boxes = await placement.place_count(uow, settings, request, arches)
    uow.emit(
        SliceCreated(
            slice_id=slice_.id,
            name=slice_.name,
            owner_group=slice_.owner_group,
            group_id=slice_.group_id,
            image_digest=digest,
            set_state=slice_.set_state,
            instance=0,
            expires_at=slice_.expires_at,
        )
    )
    await add_slivers(uow, settings, slice_, boxes)
    log.info("slice.created", slice_id=str(slice_.id), slivers=len(boxes), name=slice_.name)
    return slice_


async def add_slivers(
    uow: UnitOfWork,
    settings: ProvisionerSettings,
    slice_: Slice,
    box_ids: list[UUID],
    *,
    replaces: UUID | None = None,
) -> list[Sliver]:
    """Slivers on boxes whose capacity is already reserved; boxes told, events emitted."""
    rows = {b.id: b for b in await uow.session.scalars(select(Box).where(Box.id.in_(box_ids)))}
    made: list[Sliver] = []
    now = datetime.now(UTC)
    builds: dict[str, DistroSpec | None] = {}
    for box_id in box_ids:
        box = rows[box_id]
        if box.arch not in builds:
            builds[box.arch] = await image_builds.for_box(
                uow,
                settings,
                name=slice_.image_name,
                version=slice_.image_version,
                digest=slice_.image_digest if slice_.image_pinned else None,
                arch=box.arch,
            )
        spec = builds[box.arch]
        if spec is None:
            raise Conflict(f"no build of the slice's image for box {box_id} ({box.arch})")
        state = "offline" if box.online is False else "registered"
        sliver = Sliver(
            id=uuid4(),
            slice_id=slice_.id,
            box_id=box_id,
            node_id=box.node_id,
            zone_id=box.zone_id,
            image=spec.model_dump(mode="json"),
            image_override=False,
            memory_mb=slice_.memory_mb,
            disk_mb=slice_.disk_mb,
            cpu_share=slice_.cpu_share,
            instance=slice_.instance,
            state=state,
            replaces=replaces,
            removing=False,
            attempts=0,
            created_at=now,
            updated_at=now,
        )
        recheck(sliver, slice_, settings)
        uow.session.add(sliver)
        made.append(sliver)
        uow.emit(
            SliverCreated(
                sliver_id=sliver.id,
                slice_id=slice_.id,
                box_id=box_id,
                image_digest=spec.digest,
                set_state=slice_.set_state,
                memory_mb=sliver.memory_mb,
                disk_mb=sliver.disk_mb,
                cpu_share=sliver.cpu_share,
                replaces=replaces,
            )
        )
    await uow.session.flush()
    uow.session.add_all(
        SliverTransition(sliver_id=s.id, from_state=None, to_state=s.state, at=now) for s in made
    )
    await sync_boxes(uow, box_ids)
    await refresh_settled(uow, [slice_.id])
    return made
