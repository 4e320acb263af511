"""What the agent takes from the environment beside its flags and its box configuration.

A box sits on member premises and shared radio links: outside development and test, it
refuses to talk to the provisioner or the bus in clear (``http://``, ``nats://``), so its
token and its commands cannot be read or forged by a neighbour on the link. A loopback
address crosses no link (the system on the same machine, as in the README's walkthrough, or
a local tunnel's end) and stays allowed.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic_settings import BaseSettings, SettingsConfigDict

from guificloud.boxes import BoxConfig
from guificloud.settings import shared
from guificloud_agent.config import ConfigError

PLAIN_SCHEMES = frozenset({"http", "nats", "ws"})


class PlainUrlRefused(ConfigError):
    """A URL in clear outside development and test; the message names it."""


class AgentSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True, frozen=True)

    environment: Literal["development", "test", "production"] = shared("environment", "production")  # type: ignore[assignment]
    tls_ca: Path | None = shared("tls_ca", None)  # type: ignore[assignment]
    """The CA the provisioner, the image store and NATS are verified by; unset, the system's."""

    def refuse_plain(self, **urls: str) -> None:
        """Raise :class:`PlainUrlRefused` for the first URL in clear, unless in development
        or test."""
        if self.environment in ("development", "test"):
            return
        for name, url in urls.items():
            parts = urlsplit(url)
            scheme = parts.scheme.lower()
            if scheme in PLAIN_SCHEMES and not _loopback(parts.hostname):
                secure = "tls://" if scheme == "nats" else "https://"
                raise PlainUrlRefused(
                    f"{name} {url} is in clear ({scheme}://): outside GUIFICLOUD_ENVIRONMENT="
                    f"development or test the agent needs {secure} (and GUIFICLOUD_TLS_CA for a "
                    "private CA)"
                )

    def refuse_plain_config(self, config: BoxConfig) -> None:
        self.refuse_plain(provisioner_url=config.provisioner_url, nats_url=config.nats_url)


def _loopback(host: str | None) -> bool:
    if host is None:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
