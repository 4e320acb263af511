"""The registry as a service definition: what ``serve`` runs."""

from __future__ import annotations

from guificloud.runtime import ServiceDefinition
from guificloud.streams import REGISTRY
from guificloud_registry.api import create_app
from guificloud_registry.models import SCHEMA, messaging, metadata

DEFINITION = ServiceDefinition(
    name=SCHEMA,
    metadata=metadata,
    messaging=messaging,
    migrations="guificloud_registry:migrations",
    create_app=create_app,
    streams=(REGISTRY,),
)
