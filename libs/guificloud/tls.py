"""TLS for every client inside the system: what it trusts.

Services, the NATS server and their peers may run with a private CA (``guificloud dev --tls``
makes one). A client given that CA trusts it alone, not the public ones: an internal peer
is never a public site. Services take the CA from their settings (``GUIFICLOUD_TLS_CA``);
command lines (``guificloud …``, the agent), which have no settings class, from
:func:`env_ca`.
"""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass
from pathlib import Path

TLS_CA_ENV = "GUIFICLOUD_TLS_CA"


@dataclass(frozen=True)
class TlsFiles:
    """A server's certificate and key (PEM), and the CA its clients trust it by."""

    ca: Path
    cert: Path
    key: Path


def env_ca() -> Path | None:
    """The CA that ``GUIFICLOUD_TLS_CA`` names, if any."""
    given = os.environ.get(TLS_CA_ENV)
    return Path(given) if given else None


def client_context(ca: Path) -> ssl.SSLContext:
    """Verifies peers (certificate and host name) against ``ca`` alone."""
    return ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(ca))


def verify(ca: Path | None) -> ssl.SSLContext | bool:
    """What httpx's ``verify`` takes: ``ca`` when given, else the system's usual trust."""
    return client_context(ca) if ca is not None else True
