"""The registry as a service definition: what ``serve`` runs."""

from __future__ import annotations

from guificloud.runtime import ServiceDefinition, no_resources
from guificloud.streams import REGISTRY
from guificloud_registry.api import create_app
from guificloud_registry.models import SCHEMA, messaging, metadata
from guificloud_registry.settings import RegistrySettings

DEFINITION = ServiceDefinition(
    name=SCHEMA,
    settings=RegistrySettings,
    metadata=metadata,
    messaging=messaging,
    migrations="guificloud_registry:migrations",
    create_app=create_app,
    resources=no_resources,
    streams=(REGISTRY,),
)
