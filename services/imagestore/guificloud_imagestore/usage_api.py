"""What uses an image (``/api/v1/images/{id}/usage`` and ``/slices``), as the provisioner's
events told the store: the reasons a delete is refused."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from guificloud.http import UowDep
from guificloud_imagestore import commands
from guificloud_imagestore.schemas import BoxUsageOut, SliceUsageOut
from guificloud_imagestore.slice_usage import slices_using
from guificloud_imagestore.usage import usage_of

router = APIRouter(prefix="/api/v1", tags=["images"])


@router.get("/images/{image_id}/usage", response_model=list[BoxUsageOut])
async def image_usage(image_id: UUID, uow: UowDep) -> list[BoxUsageOut]:
    """The boxes that deploy or run this image (by digest), as the provisioner reported."""
    image = await commands.get_image(uow, image_id)
    if image.digest is None:
        return []
    return [
        BoxUsageOut(box_id=u.box_id, state=u.state, updated_at=u.updated_at)
        for u in await usage_of(uow, image.digest)
    ]


@router.get("/images/{image_id}/slices", response_model=list[SliceUsageOut])
async def image_slices(image_id: UUID, uow: UowDep) -> list[SliceUsageOut]:
    """The slices that name this image or have slivers running it, as the provisioner said."""
    image = await commands.get_image(uow, image_id)
    if image.digest is None:
        return []
    return [
        SliceUsageOut(slice_id=u.slice_id, names_image=u.names_image, slivers=u.slivers)
        for u in await slices_using(uow, image.digest)
    ]
