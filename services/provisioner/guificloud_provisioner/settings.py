"""Settings of the provisioner (``GUIFICLOUD_PROVISIONER_*``)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from guificloud.settings import DEFAULT_PORTS, ServiceSettings, shared


class ProvisionerSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="GUIFICLOUD_PROVISIONER_", extra="ignore", populate_by_name=True, frozen=True
    )

    service: str = "provisioner"
    port: int = DEFAULT_PORTS["provisioner"]
    distro_name: str = "guifi-community-distro"
    distro_channel: str = "stable"
    imagestore_url: str = shared(
        "imagestore_url", f"http://127.0.0.1:{DEFAULT_PORTS['imagestore']}"
    )  # type: ignore[assignment]
    box_nats_url: str | None = None
    box_heartbeat_interval_s: float = shared("heartbeat_interval_s", 5.0)  # type: ignore[assignment]

    # Slices: what a box keeps for its platform, and how the reconciler paces itself.
    box_reserve_memory_mb: int = 512
    box_reserve_disk_mb: int = 2048
    reconcile_interval_s: float = 5.0
    reconcile_backoff_s: float = 10.0
    reconcile_backoff_max_s: float = 300.0
    reconcile_max_attempts: int = 5
    replace_grace_s: float = 300.0
    slice_expiry_days: float = 30.0
    slice_expiry_warning_days: float = 3.0
