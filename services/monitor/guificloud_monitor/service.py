"""The monitor as a service definition: what ``serve`` runs."""

from __future__ import annotations

from guificloud.bus.wiring import ConsumerSpec, wire
from guificloud.events.provisioner import BoxRegistered
from guificloud.runtime import ServiceDefinition
from guificloud.streams import MONITOR, PROVISIONER
from guificloud_monitor import handlers
from guificloud_monitor.api import create_app
from guificloud_monitor.ingest import ingest_heartbeats
from guificloud_monitor.models import SCHEMA, messaging, metadata
from guificloud_monitor.runtime import build_resources
from guificloud_monitor.settings import MonitorSettings
from guificloud_monitor.sweeper import sweep_availability

CONSUMERS = (
    # PROVISIONER is declared by the provisioner; the consumer binds once it exists.
    ConsumerSpec(
        PROVISIONER,
        "monitor-boxes",
        {BoxRegistered: handlers.handle_box_registered},
        partition=lambda e: e.box_id,
    ),
)

DEFINITION = ServiceDefinition(
    name=SCHEMA,
    settings=MonitorSettings,
    metadata=metadata,
    messaging=messaging,
    migrations="guificloud_monitor:migrations",
    create_app=create_app,
    resources=build_resources,
    streams=(MONITOR,),
    subscriptions=wire(*CONSUMERS),
    background=(ingest_heartbeats, sweep_availability),
)
