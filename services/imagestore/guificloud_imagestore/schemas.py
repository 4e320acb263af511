"""What the image store's API takes and returns."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from guificloud.boxes import DIGEST_PATTERN
from guificloud.inputs import Int64
from guificloud.key_names import DISTRO_NAME, KEY_NAME_PATTERN

NAME_PATTERN = r"^[a-z0-9][a-z0-9._-]*$"
VERSION_PATTERN = NAME_PATTERN
CHANNEL_PATTERN = r"^[a-z][a-z0-9-]*$"
KEY_ID_PATTERN = r"^[0-9a-f]{16}$"
SIGNATURE_MAX = 128
GROUP_DOC = (
    "The group the image is published for: you need the publisher (or group_admin) role in "
    "it, and the image counts in its image quota. Only operators leave it out, for images "
    "of the deployment (the distro)."
)

Arch = Literal["amd64", "i386", "arm64", "armhf", "all"]
Format = Literal["tar", "tar.gz", "tar.xz"]
State = Literal["uploading", "active", "deprecated", "deleted"]


class ImageMeta(BaseModel):
    """What identifies an upload; its bytes come as the request body."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(min_length=1, max_length=128, pattern=NAME_PATTERN)
    version: str = Field(min_length=1, max_length=64, pattern=VERSION_PATTERN)
    arch: Arch
    format: Format
    channel: str = Field("stable", min_length=1, max_length=32, pattern=CHANNEL_PATTERN)


class UploadIn(ImageMeta):
    """A resumable upload: the image it will become, and what its bytes must be."""

    size: Annotated[Int64, Field(ge=1, description="Exact number of bytes that will be sent")]
    digest: str | None = Field(None, pattern=DIGEST_PATTERN, description="sha256 they must hash to")
    signature: str | None = Field(None, min_length=1, max_length=SIGNATURE_MAX)
    key_id: str | None = Field(None, pattern=KEY_ID_PATTERN)
    group_id: UUID | None = Field(None, description=GROUP_DOC)


class UploadOut(BaseModel):
    id: UUID
    image_id: UUID
    name: str
    version: str
    arch: str
    format: str
    channel: str
    size: int
    offset: int = Field(description="Bytes received so far: send the next chunk from here")
    digest: str | None
    key_id: str | None
    group_id: UUID | None = Field(description="The group it is published for")
    opened_by: UUID | None = Field(description="The account it belongs to")
    created_at: datetime
    expires_at: datetime
    url: str = Field(description="Where chunks are sent (PATCH), relative to the store")


class ImageOut(BaseModel):
    id: UUID
    name: str
    version: str
    arch: str
    format: str
    channel: str
    digest: str | None = Field(pattern=DIGEST_PATTERN, description="None while uploading")
    size: int | None
    state: State
    publisher: str | None
    signature: str | None
    key_id: str | None
    group_id: UUID | None = Field(description="Its group; None: an image of the deployment")
    published_by: UUID | None = Field(description="The account that uploaded it")
    created_at: datetime
    published_at: datetime | None
    deleted_at: datetime | None
    url: str | None = Field(description="The blob, relative to the image store (as in the event)")
    download_url: str | None = Field(description="The blob, absolute, as this request reached us")


class BoxUsageOut(BaseModel):
    box_id: UUID
    state: str = Field(description="What the provisioner last said: deploying or ready")
    updated_at: datetime


class SliceUsageOut(BaseModel):
    slice_id: UUID
    names_image: bool = Field(description="The slice's own image: new slivers get it")
    slivers: int = Field(description="Live slivers of the slice that run this image")


class KeyIn(BaseModel):
    model_config = ConfigDict(frozen=True)

    publisher: str = Field(min_length=1, max_length=128)
    public_key: str = Field(
        min_length=1, max_length=64, description="base64 of the 32 raw bytes of an ed25519 key"
    )
    names: list[Annotated[str, StringConstraints(pattern=KEY_NAME_PATTERN)]] = Field(
        min_length=1,
        max_length=100,
        description="Image names, or shell patterns such as 'guifi-*', the key may sign; "
        f"{DISTRO_NAME} only when named exactly",
    )


class KeyOut(BaseModel):
    key_id: str
    publisher: str
    public_key: str
    names: list[str]
    created_at: datetime
    revoked_at: datetime | None


class GcReport(BaseModel):
    removed_blobs: list[str]
    kept_blobs: int
    expired_sessions: int
    removed_uploads: int
    pruned_usage: int = Field(0, description="Old records of deleted slices and slivers")
