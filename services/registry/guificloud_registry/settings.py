"""Settings of the registry (``GUIFICLOUD_REGISTRY_*``)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from guificloud.settings import DEFAULT_PORTS, ServiceSettings


class RegistrySettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="GUIFICLOUD_REGISTRY_", extra="ignore", populate_by_name=True, frozen=True
    )

    service: str = "registry"
    port: int = DEFAULT_PORTS["registry"]
