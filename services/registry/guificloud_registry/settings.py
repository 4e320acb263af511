"""Settings of the registry (``GUIFICLOUD_REGISTRY_*``)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from guificloud.settings import DEFAULT_PORTS, ServiceSettings

MIB = 1024**2


class RegistrySettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="GUIFICLOUD_REGISTRY_", extra="ignore", populate_by_name=True, frozen=True
    )

    service: str = "registry"
    port: int = DEFAULT_PORTS["registry"]
    cnml_max_bytes: int = 256 * MIB
    """The largest CNML upload accepted; guifi.net's whole-world detail export is ~200 MB."""
