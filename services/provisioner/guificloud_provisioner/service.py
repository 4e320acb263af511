"""The provisioner as a service definition: what ``serve`` runs."""

from __future__ import annotations

from collections.abc import Sequence

from guificloud.bus.consumer import Subscription
from guificloud.events.agent import AgentReported
from guificloud.events.registry import DeviceAdded
from guificloud.runtime import Runtime, ServiceDefinition
from guificloud.streams import AGENTS, BOXES, IMAGESTORE, MONITOR, PROVISIONER, REGISTRY
from guificloud_provisioner.api import create_app
from guificloud_provisioner.handlers import event_handlers
from guificloud_provisioner.image_catalogue import image_handlers
from guificloud_provisioner.schema import SCHEMA, messaging, metadata
from guificloud_provisioner.settings import ProvisionerSettings
from guificloud_provisioner.slices.availability import availability_handlers
from guificloud_provisioner.slices.loop import reconcile_slices
from guificloud_provisioner.slices.zones import ZONE_HANDLERS


def subscriptions(runtime: Runtime) -> Sequence[Subscription]:
    settings = runtime.settings
    assert isinstance(settings, ProvisionerSettings)
    handlers = event_handlers(settings)
    return (
        Subscription(
            stream=REGISTRY.name,
            durable="provisioner-devices",
            partition=lambda e: e.device_id,
            handlers={DeviceAdded: handlers[DeviceAdded]},
        ),
        Subscription(
            stream=IMAGESTORE.name,
            durable="provisioner-images",
            handlers=image_handlers(settings),
        ),
        Subscription(
            stream=AGENTS.name,
            durable="provisioner-agents",
            partition=lambda e: e.box_id,
            handlers={AgentReported: handlers[AgentReported]},
        ),
        Subscription(
            stream=REGISTRY.name,
            durable="provisioner-zones",
            handlers=ZONE_HANDLERS,
        ),
        # MONITOR is declared by the monitor; the consumer binds once it exists.
        Subscription(
            stream=MONITOR.name,
            durable="provisioner-availability",
            partition=lambda e: e.box_id,
            handlers=availability_handlers(settings),
        ),
    )


DEFINITION = ServiceDefinition(
    name=SCHEMA,
    metadata=metadata,
    messaging=messaging,
    migrations="guificloud_provisioner:migrations",
    create_app=create_app,
    streams=(PROVISIONER, BOXES, AGENTS),
    subscriptions=subscriptions,
    background=(reconcile_slices,),
)
