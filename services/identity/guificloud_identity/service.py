"""The identity service as a service definition: what ``serve`` runs."""

from __future__ import annotations

from guificloud.runtime import ServiceDefinition
from guificloud.streams import IDENTITY
from guificloud_identity.api import create_app
from guificloud_identity.models import SCHEMA, messaging, metadata

DEFINITION = ServiceDefinition(
    name=SCHEMA,
    metadata=metadata,
    messaging=messaging,
    migrations="guificloud_identity:migrations",
    create_app=create_app,
    streams=(IDENTITY,),
)
