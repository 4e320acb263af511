"""The 409 of deleting an image that something still uses, saying what uses it."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from guificloud.errors import Conflict
from guificloud_imagestore.models import Image
from guificloud_imagestore.slice_usage import SliceUse


class ImageInUse(Conflict):
    """Refused because boxes or slices use the image; ``boxes`` and ``slices`` say which."""

    def __init__(self, message: str, boxes: list[UUID], slices: list[SliceUse]) -> None:
        super().__init__(message)
        self.boxes = boxes
        self.slices = slices

    def details(self) -> dict[str, Any]:
        return {
            "boxes": [str(b) for b in self.boxes],
            "slices": [str(s.slice_id) for s in self.slices],
            "slivers": sum(s.slivers for s in self.slices),
        }


def shown(ids: list[UUID]) -> str:
    return ", ".join(str(i) for i in ids[:20]) + (" …" if len(ids) > 20 else "")


def in_use(image: Image, boxes: list[UUID], slices: list[SliceUse]) -> ImageInUse:
    users = []
    if slices:
        slivers = sum(s.slivers for s in slices)
        users.append(
            f"{len(slices)} slice(s) with {slivers} sliver(s) on it: "
            + shown([s.slice_id for s in slices])
        )
    if boxes:
        users.append(f"{len(boxes)} box(es): {shown(boxes)}")
    return ImageInUse(
        f"image {image.name} {image.version} ({image.arch}) is in use by "
        + "; and by ".join(users)
        + "; it can be deleted once nothing uses it",
        boxes,
        slices,
    )
