"""Settings of the image store (``GUIFICLOUD_IMAGESTORE_*``)."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import SettingsConfigDict

from guificloud.settings import DEFAULT_PORTS, ServiceSettings

GIB = 1024**3


class ImagestoreSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="GUIFICLOUD_IMAGESTORE_", extra="ignore", populate_by_name=True, frozen=True
    )

    service: str = "imagestore"
    port: int = DEFAULT_PORTS["imagestore"]
    blob_dir: Path | None = None
    max_image_bytes: int = 16 * GIB

    @property
    def blob_root(self) -> Path:
        """Where blobs live: ``<root>/sha256/<hex>``, uploads in progress in ``<root>/uploads``.

        Both under one root so that finishing an upload is an atomic rename."""
        return self.blob_dir or self.data_dir / "imagestore" / "blobs"
