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
    NodeOwnerChanged,
    ZoneCreated,
    ZoneDeleted,
    ZonesImported,
    ZoneUpdated,
)
from guificloud.runtime import ServiceDefinition, no_resources
from guificloud.streams import (
    AGENTS,
    BOXES,
    IDENTITY,
    IMAGESTORE,
    MONITOR,
    PROVISIONER,
    REGISTRY,
)
from guificloud_provisioner import handlers, image_catalogue
from guificloud_provisioner.api import create_app
from guificloud_provisioner.models import group_facts
from guificloud_provisioner.schema import SCHEMA, messaging, metadata
from guificloud_provisioner.settings import ProvisionerSettings
from guificloud_provisioner.slices import availability, zones
from guificloud_provisioner.slices.loop import reconcile_slices

CONSUMERS = (
    # A node's devices and its owner changes in stream order: one partition per node.
    ConsumerSpec(
        REGISTRY,
        "provisioner-devices",
        {
            DeviceAdded: handlers.handle_device_added,
            NodeOwnerChanged: handlers.handle_node_owner_changed,
        },
        partition=lambda e: e.node_id,
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
    # IDENTITY is declared by the identity service; the consumer binds once it exists.
    ConsumerSpec(IDENTITY, "provisioner-groups", group_facts.handlers),
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
