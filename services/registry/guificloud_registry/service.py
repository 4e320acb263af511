"""The registry as a service definition: what ``serve`` runs."""

from __future__ import annotations

from guificloud.bus.wiring import ConsumerSpec, wire
from guificloud.runtime import ServiceDefinition, no_resources
from guificloud.streams import IDENTITY, REGISTRY
from guificloud_registry.api import create_app
from guificloud_registry.models import SCHEMA, groups, messaging, metadata
from guificloud_registry.settings import RegistrySettings

CONSUMERS = (
    # Which groups may have nodes (a cloud box needs one), as the identity service says.
    ConsumerSpec(IDENTITY, "registry-groups", groups.handlers),
)

DEFINITION = ServiceDefinition(
    name=SCHEMA,
    settings=RegistrySettings,
    metadata=metadata,
    messaging=messaging,
    migrations="guificloud_registry:migrations",
    create_app=create_app,
    resources=no_resources,
    streams=(REGISTRY,),
    subscriptions=wire(*CONSUMERS),
)
