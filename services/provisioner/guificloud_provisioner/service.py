"""The provisioner as a service definition: what ``serve`` runs."""

from __future__ import annotations

from guificloud.bus.wiring import ConsumerSpec, wire
from guificloud.events.agent import AgentReported
from guificloud.events.imagestore import (
    ImageDeleted,
    ImageDeprecated,
    ImagePublished,
    PublisherKeyAdded,
    PublisherKeyRevoked,
)
from guificloud.events.monitor import BoxOffline, BoxOnline
from guificloud.events.registry import (
    DeviceAdded,
    ZoneCreated,
    ZoneDeleted,
    ZonesImported,
    ZoneUpdated,
)
from guificloud.runtime import ServiceDefinition, no_resources
from guificloud.streams import AGENTS, BOXES, IMAGESTORE, MONITOR, PROVISIONER, REGISTRY
from guificloud_provisioner import handlers, image_catalogue
from guificloud_provisioner.api import create_app
from guificloud_provisioner.schema import SCHEMA, messaging, metadata
from guificloud_provisioner.settings import ProvisionerSettings
from guificloud_provisioner.slices import availability, zones
from guificloud_provisioner.slices.loop import reconcile_slices

CONSUMERS = (
    ConsumerSpec(
        REGISTRY,
        "provisioner-devices",
        {DeviceAdded: handlers.handle_device_added},
        partition=lambda e: e.device_id,
    ),
    ConsumerSpec(
        IMAGESTORE,
        "provisioner-images",
        {
            ImagePublished: image_catalogue.handle_image_published,
            ImageDeprecated: image_catalogue.handle_image_deprecated,
            ImageDeleted: image_catalogue.handle_image_deleted,
            PublisherKeyAdded: image_catalogue.handle_key_added,
            PublisherKeyRevoked: image_catalogue.handle_key_revoked,
        },
    ),
    ConsumerSpec(
        AGENTS,
        "provisioner-agents",
        {AgentReported: handlers.handle_agent_reported},
        partition=lambda e: e.box_id,
    ),
    ConsumerSpec(
        REGISTRY,
        "provisioner-zones",
        {
            ZoneCreated: zones.handle_zone_created,
            ZoneUpdated: zones.handle_zone_updated,
            ZoneDeleted: zones.handle_zone_deleted,
            ZonesImported: zones.handle_zones_imported,
        },
    ),
    # MONITOR is declared by the monitor; the consumer binds once it exists.
    ConsumerSpec(
        MONITOR,
        "provisioner-availability",
        {BoxOffline: availability.handle_box_offline, BoxOnline: availability.handle_box_online},
        partition=lambda e: e.box_id,
    ),
)

DEFINITION = ServiceDefinition(
    name=SCHEMA,
    settings=ProvisionerSettings,
    metadata=metadata,
    messaging=messaging,
    migrations="guificloud_provisioner:migrations",
    create_app=create_app,
    resources=no_resources,
    streams=(PROVISIONER, BOXES, AGENTS),
    subscriptions=wire(*CONSUMERS),
    background=(reconcile_slices,),
)
