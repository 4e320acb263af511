"""Settings: one pydantic-settings class per service, built in bootstrap, never at import.

Every value comes from flags or ``GUIFICLOUD_*`` environment variables. The shared ones
(NATS, database, data folder) are read from ``GUIFICLOUD_<NAME>``; a service's own from
``GUIFICLOUD_<SERVICE>_<NAME>`` (for instance ``GUIFICLOUD_REGISTRY_PORT``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = frozenset({"", "changethis", "secret", "dev-admin-token"})
MIN_ADMIN_TOKEN_CHARS = 43
"""What ``secrets.token_urlsafe(32)`` gives: 32 random bytes."""
MIN_ADMIN_TOKEN_DISTINCT = 16
"""A long token of few distinct characters (``aaaa…``, ``0101…``) is not random."""

DEFAULT_PORTS: dict[str, int] = {
    "registry": 8101,
    "provisioner": 8102,
    "monitor": 8103,
    "imagestore": 8104,
    "identity": 8105,
}


def shared(name: str, default: object) -> object:
    """A field shared by all services, read from ``GUIFICLOUD_<NAME>`` (or its field name)."""
    return Field(default=default, validation_alias=f"GUIFICLOUD_{name.upper()}")


def weak_admin_token(token: str) -> str | None:
    """Why ``token`` cannot be an admin token outside development, or None if it can."""
    if token in PLACEHOLDER_SECRETS:
        return "is unset or a placeholder"
    if len(token) < MIN_ADMIN_TOKEN_CHARS:
        return f"has {len(token)} characters, fewer than {MIN_ADMIN_TOKEN_CHARS}"
    if len(set(token)) < MIN_ADMIN_TOKEN_DISTINCT:
        return f"has only {len(set(token))} distinct characters: it is not random"
    return None


class ServiceSettings(BaseSettings):
    """What every service needs: where NATS and PostgreSQL are, where it listens."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True, frozen=True)

    service: str = "service"
    environment: Literal["development", "test", "production"] = shared("environment", "production")  # type: ignore[assignment]
    """Only an explicit ``development`` accepts a weak admin token (``guificloud dev`` sets
    it); the default is production."""
    nats_url: str = shared("nats_url", "nats://127.0.0.1:4222")  # type: ignore[assignment]
    database_url: str = shared(
        "database_url", "postgresql+asyncpg://postgres@127.0.0.1:5432/guificloud"
    )  # type: ignore[assignment]
    data_dir: Path = shared("data_dir", Path(".guificloud"))  # type: ignore[assignment]
    log_format: Literal["auto", "console", "json"] = shared("log_format", "auto")  # type: ignore[assignment]
    log_level: str = shared("log_level", "info")  # type: ignore[assignment]
    log_file: Path | None = shared("log_file", None)  # type: ignore[assignment]
    """Where the log goes once standard output breaks; unset, ``<data_dir>/logs/<service>.log``."""
    admin_token: str = shared("admin_token", "dev-admin-token")  # type: ignore[assignment]
    consumer_ack_wait_s: float | None = shared("consumer_ack_wait_s", None)  # type: ignore[assignment]
    """Seconds before JetStream redelivers an unacknowledged message (that a crashed
    instance held); unset, each subscription's own (5 s)."""
    idempotency_ttl_s: float = shared("idempotency_ttl_s", 86400.0)  # type: ignore[assignment]
    """How long the response to a request with an ``Idempotency-Key`` is kept for its
    retries (24 h)."""
    idempotency_wait_s: float = shared("idempotency_wait_s", 10.0)  # type: ignore[assignment]
    """How long a retry waits for the first request with its key before a 409."""
    identity_url: str = shared("identity_url", f"http://127.0.0.1:{DEFAULT_PORTS['identity']}")  # type: ignore[assignment]
    """Where the identity service publishes the keys access tokens are verified with."""
    tls_cert: Path | None = shared("tls_cert", None)  # type: ignore[assignment]
    """PEM certificate (chain) the HTTP server presents; with ``tls_key``, it serves https."""
    tls_key: Path | None = shared("tls_key", None)  # type: ignore[assignment]
    tls_ca: Path | None = shared("tls_ca", None)  # type: ignore[assignment]
    """The CA this service's clients (JWKS, NATS) trust its peers by; unset, the system's."""
    host: str = "127.0.0.1"
    port: int = 0
    public_url: str | None = None

    @model_validator(mode="after")
    def _refuse_weak_admin_token(self) -> ServiceSettings:
        if self.environment != "development":
            problem = weak_admin_token(self.admin_token)
            if problem is not None:
                raise ValueError(
                    f"GUIFICLOUD_ADMIN_TOKEN {problem}; outside GUIFICLOUD_ENVIRONMENT="
                    "development it must hold 32 random bytes: python3 -c "
                    "'import secrets; print(secrets.token_urlsafe(32))'"
                )
        return self

    @model_validator(mode="after")
    def _cert_with_key(self) -> ServiceSettings:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("GUIFICLOUD_TLS_CERT and GUIFICLOUD_TLS_KEY go together: set both")
        return self

    @property
    def tls(self) -> bool:
        return self.tls_cert is not None

    @property
    def log_fallback(self) -> Path:
        return self.log_file or self.data_dir / "logs" / f"{self.service}.log"

    @property
    def db_schema(self) -> str:
        """The PostgreSQL schema this service owns."""
        return self.service

    @property
    def base_url(self) -> str:
        """Where other parts of the system reach this service over HTTP."""
        scheme = "https" if self.tls else "http"
        return self.public_url or f"{scheme}://{self.host}:{self.port}"
