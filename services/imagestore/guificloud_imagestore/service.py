"""The image store as a service definition: what ``serve`` runs."""

from __future__ import annotations

from guificloud.bus.wiring import ConsumerSpec, wire
from guificloud.events.provisioner import (
    BoxDeploying,
    BoxReady,
    SliceCreated,
    SliceDeleted,
    SliverCreated,
    SliverDeleted,
    SliverUpdated,
)
from guificloud.runtime import ServiceDefinition
from guificloud.streams import IDENTITY, IMAGESTORE, PROVISIONER
from guificloud_imagestore import slice_usage, usage
from guificloud_imagestore.api import create_app
from guificloud_imagestore.gc import collect_garbage
from guificloud_imagestore.models import SCHEMA, groups, messaging, metadata
from guificloud_imagestore.runtime import build_resources
from guificloud_imagestore.settings import ImagestoreSettings

CONSUMERS = (
    # PROVISIONER is declared by the provisioner; the consumer binds once it exists.
    ConsumerSpec(
        PROVISIONER,
        "imagestore-usage",
        {
            BoxDeploying: usage.handle_box_deploying,
            BoxReady: usage.handle_box_ready,
            SliceCreated: slice_usage.handle_slice_created,
            SliceDeleted: slice_usage.handle_slice_deleted,
            SliverCreated: slice_usage.handle_sliver_created,
            SliverUpdated: slice_usage.handle_sliver_updated,
            SliverDeleted: slice_usage.handle_sliver_deleted,
        },
        partition=usage.usage_partition,
    ),
    # The groups' image quotas, as the identity service tells them.
    ConsumerSpec(IDENTITY, "imagestore-groups", groups.handlers),
)

DEFINITION = ServiceDefinition(
    name=SCHEMA,
    settings=ImagestoreSettings,
    metadata=metadata,
    messaging=messaging,
    migrations="guificloud_imagestore:migrations",
    create_app=create_app,
    resources=build_resources,
    streams=(IMAGESTORE,),
    subscriptions=wire(*CONSUMERS),
    background=(collect_garbage,),
)
