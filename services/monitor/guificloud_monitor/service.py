"""The monitor as a service definition: what ``serve`` runs."""

from __future__ import annotations

from collections.abc import Sequence

from guificloud.bus.consumer import Subscription
from guificloud.runtime import Runtime, ServiceDefinition
from guificloud.streams import MONITOR, PROVISIONER
from guificloud_monitor.api import create_app
from guificloud_monitor.handlers import EVENT_HANDLERS
from guificloud_monitor.ingest import ingest_heartbeats
from guificloud_monitor.models import SCHEMA, messaging, metadata
from guificloud_monitor.sweeper import sweep_availability


def subscriptions(_runtime: Runtime) -> Sequence[Subscription]:
    # PROVISIONER is declared by the provisioner; the consumer binds once it exists.
    return (
        Subscription(
            stream=PROVISIONER.name,
            durable="monitor-boxes",
            handlers=EVENT_HANDLERS,
            partition=lambda e: e.box_id,
        ),
    )


DEFINITION = ServiceDefinition(
    name=SCHEMA,
    metadata=metadata,
    messaging=messaging,
    migrations="guificloud_monitor:migrations",
    create_app=create_app,
    streams=(MONITOR,),
    subscriptions=subscriptions,
    background=(ingest_heartbeats, sweep_availability),
)
