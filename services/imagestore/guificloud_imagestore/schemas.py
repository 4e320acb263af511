"""What the image store's API takes and returns."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from guificloud.boxes import DIGEST_PATTERN

NAME_PATTERN = r"^[a-z0-9][a-z0-9._-]*$"
VERSION_PATTERN = NAME_PATTERN
CHANNEL_PATTERN = r"^[a-z][a-z0-9-]*$"

Arch = Literal["amd64", "i386", "arm64", "armhf", "all"]
Format = Literal["tar", "tar.gz", "tar.xz"]


class ImageMeta(BaseModel):
    """What identifies an upload; its bytes come as the request body."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(min_length=1, max_length=128, pattern=NAME_PATTERN)
    version: str = Field(min_length=1, max_length=64, pattern=VERSION_PATTERN)
    arch: Arch
    format: Format
    channel: str = Field("stable", min_length=1, max_length=32, pattern=CHANNEL_PATTERN)


class ImageOut(BaseModel):
    id: UUID
    name: str
    version: str
    arch: str
    format: str
    channel: str
    digest: str = Field(pattern=DIGEST_PATTERN)
    size: int
    state: str
    created_at: datetime
    published_at: datetime | None
    url: str = Field(description="The blob, relative to the image store (as in the event)")
    download_url: str = Field(description="The blob, absolute, as this request reached us")
