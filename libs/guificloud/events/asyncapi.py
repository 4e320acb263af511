"""An AsyncAPI 3 document of the event catalogue, generated from the models.

For people who extend the system by subscribing: every subject, its payload schema, and the
envelope around it. ``guificloud events asyncapi`` prints it.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from pydantic.json_schema import models_json_schema

from guificloud.events.catalogue import CATALOGUE
from guificloud.events.envelope import Envelope, Event
from guificloud.streams import (
    AGENTS,
    BOXES,
    IDENTITY,
    IMAGESTORE,
    MONITOR,
    PROVISIONER,
    REGISTRY,
)

STREAM_OF = {
    "registry": REGISTRY.name,
    "imagestore": IMAGESTORE.name,
    "provisioner": PROVISIONER.name,
    "monitor": MONITOR.name,
    "box": BOXES.name,
    "identity": IDENTITY.name,
}


def _channel_address(subject: str) -> str:
    return subject.replace("{box_id}", "{boxId}")


class _Schemas(NamedTuple):
    envelope: dict[str, Any]
    payloads: dict[type[Event], dict[str, Any]]
    components: dict[str, Any]


def _schemas() -> _Schemas:
    """``$ref``s to the envelope's and each payload's schema, and every schema they name.

    Generated in one pass so that nested models (``Hardware``, ``SliverStatus``…) are defined
    once under ``components.schemas`` and referenced from there, with name clashes resolved.
    The envelope is described as it is sent: a field with a default is always present.
    """
    refs, defs = models_json_schema(
        [(Envelope, "serialization"), *((cls, "validation") for cls in CATALOGUE.values())],
        ref_template="#/components/schemas/{model}",
    )
    return _Schemas(
        envelope=refs[(Envelope, "serialization")],
        payloads={cls: refs[(cls, "validation")] for cls in CATALOGUE.values()},
        components=defs.get("$defs", {}),
    )


def asyncapi_document() -> dict[str, Any]:
    channels: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    schemas = _schemas()
    for (type_, version), cls in sorted(CATALOGUE.items()):
        key = f"{type_.replace('.', '_')}_v{version}"
        family = type_.split(".")[0]
        stream = STREAM_OF.get(family)
        if cls.SUBJECT.endswith(".reported"):
            stream = AGENTS.name
        elif cls.SUBJECT.endswith(".heartbeat"):
            stream = None
        description = (cls.__doc__ or "").strip()
        messages[key] = {
            "name": type_,
            "title": f"{type_} v{version}",
            "summary": description.splitlines()[0] if description else type_,
            "headers": {"type": "object", "properties": {"Nats-Msg-Id": {"type": "string"}}},
            "payload": {
                "allOf": [
                    schemas.envelope,
                    {
                        "type": "object",
                        "properties": {
                            "type": {"const": type_},
                            "version": {"const": version},
                            "data": schemas.payloads[cls],
                        },
                    },
                ]
            },
        }
        channel: dict[str, Any] = {
            "address": _channel_address(cls.SUBJECT),
            "messages": {key: {"$ref": f"#/components/messages/{key}"}},
            "description": (f"JetStream stream {stream}" if stream else "core NATS, not stored"),
        }
        if "{box_id}" in cls.SUBJECT:
            channel["parameters"] = {"boxId": {"description": "the box's id (its device id)"}}
        channels[key] = channel
        operations[f"receive_{key}"] = {
            "action": "receive",
            "channel": {"$ref": f"#/channels/{key}"},
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "guifi-cloud events",
            "version": "1",
            "description": "Facts and commands of the Guifi.net community cloud on NATS.",
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas.components},
    }
