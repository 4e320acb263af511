"""Settings of the image store (``GUIFICLOUD_IMAGESTORE_*``)."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import SettingsConfigDict

from guificloud.settings import DEFAULT_PORTS, ServiceSettings

GIB = 1024**3
HOUR_S = 3600.0


class ImagestoreSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="GUIFICLOUD_IMAGESTORE_", extra="ignore", populate_by_name=True, frozen=True
    )

    service: str = "imagestore"
    port: int = DEFAULT_PORTS["imagestore"]
    blob_dir: Path | None = None
    max_image_bytes: int = 16 * GIB
    require_signature: bool = True
    """Refuse unsigned images; turning it off is a development setting only."""
    upload_session_ttl_s: float = 24 * HOUR_S
    """An upload session nobody writes to for this long is dropped with its bytes."""
    upload_lease_s: float = 15.0
    """How long a writer that stopped answering keeps a session to itself."""
    stale_upload_s: float = HOUR_S
    """Single-request uploads untouched for this long are leftovers of a crash."""
    gc_interval_s: float = HOUR_S

    @property
    def blob_root(self) -> Path:
        """Where blobs live: ``<root>/sha256/<hex>``, uploads in progress in ``<root>/uploads``.

        Both under one root so that filing a finished upload is an atomic link or rename."""
        return self.blob_dir or self.data_dir / "imagestore" / "blobs"
