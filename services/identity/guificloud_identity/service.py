"""The identity service as a service definition: what ``serve`` runs."""

from __future__ import annotations

from guificloud.runtime import ServiceDefinition
from guificloud.streams import IDENTITY
from guificloud_identity.api import create_app
from guificloud_identity.authority import Authority
from guificloud_identity.models import SCHEMA, messaging, metadata
from guificloud_identity.settings import IdentitySettings

DEFINITION = ServiceDefinition(
    name=SCHEMA,
    settings=IdentitySettings,
    metadata=metadata,
    messaging=messaging,
    migrations="guificloud_identity:migrations",
    create_app=create_app,
    resources=Authority.from_settings,
    streams=(IDENTITY,),
)
