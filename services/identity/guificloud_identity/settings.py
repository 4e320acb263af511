"""Settings of the identity service (``GUIFICLOUD_IDENTITY_*``)."""

from __future__ import annotations

from pydantic import SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from guificloud.settings import DEFAULT_PORTS, ServiceSettings

MINUTE = 60
DAY = 86_400


class IdentitySettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="GUIFICLOUD_IDENTITY_", extra="ignore", populate_by_name=True, frozen=True
    )

    service: str = "identity"
    port: int = DEFAULT_PORTS["identity"]
    access_token_ttl_s: int = 10 * MINUTE
    """Lifetime of an access token: also how long a revocation or a disabled account may
    take to reach a service that checks tokens offline."""
    refresh_token_ttl_s: int = 30 * DAY
    api_token_max_ttl_s: int = 365 * DAY
    login_window_s: int = 15 * MINUTE
    """Failed logins are counted over this window; it also caps any delay."""
    login_failures_per_account: int = 5
    login_failures_per_address: int = 30
    login_delay_base_s: float = 1.0
    """The delay after the last allowed failure; it doubles with each failure after."""
    signing_key_secret: SecretStr | None = None
    """Seals the signing keys' private halves in the database (AES-GCM); required outside
    development."""

    @model_validator(mode="after")
    def _sealed_keys_outside_development(self) -> IdentitySettings:
        secret = self.signing_key_secret
        if self.environment == "production" and (
            secret is None or len(secret.get_secret_value()) < 32
        ):
            raise ValueError(
                "GUIFICLOUD_IDENTITY_SIGNING_KEY_SECRET must be set (32 characters or more) "
                "outside development: it seals the token signing keys"
            )
        return self
