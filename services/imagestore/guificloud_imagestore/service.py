"""The image store as a service definition: what ``serve`` runs."""

from __future__ import annotations

from collections.abc import Sequence

from guificloud.bus.consumer import Subscription
from guificloud.runtime import Runtime, ServiceDefinition
from guificloud.streams import IMAGESTORE, PROVISIONER
from guificloud_imagestore.api import create_app
from guificloud_imagestore.gc import collect_garbage
from guificloud_imagestore.models import SCHEMA, messaging, metadata
from guificloud_imagestore.usage import USAGE_HANDLERS, usage_partition


def subscriptions(_runtime: Runtime) -> Sequence[Subscription]:
    # PROVISIONER is declared by the provisioner; the consumer binds once it exists.
    return (
        Subscription(
            stream=PROVISIONER.name,
            durable="imagestore-usage",
            handlers=USAGE_HANDLERS,
            partition=usage_partition,
        ),
    )


DEFINITION = ServiceDefinition(
    name=SCHEMA,
    metadata=metadata,
    messaging=messaging,
    migrations="guificloud_imagestore:migrations",
    create_app=create_app,
    streams=(IMAGESTORE,),
    subscriptions=subscriptions,
    background=(collect_garbage,),
)
