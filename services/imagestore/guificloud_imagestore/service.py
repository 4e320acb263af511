"""The image store as a service definition: what ``serve`` runs."""

from __future__ import annotations

from guificloud.runtime import ServiceDefinition
from guificloud.streams import IMAGESTORE
from guificloud_imagestore.api import create_app
from guificloud_imagestore.models import SCHEMA, messaging, metadata

DEFINITION = ServiceDefinition(
    name=SCHEMA,
    metadata=metadata,
    messaging=messaging,
    migrations="guificloud_imagestore:migrations",
    create_app=create_app,
    streams=(IMAGESTORE,),
)
