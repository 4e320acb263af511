"""An AsyncAPI 3 document of the event catalogue, generated from the models.

For people who extend the system by subscribing: every subject, its payload schema, and the
envelope around it. ``guificloud events asyncapi`` prints it.
"""

from __future__ import annotations

from typing import Any

from guificloud.events.catalogue import CATALOGUE
from guificloud.events.envelope import Envelope
from guificloud.streams import AGENTS, BOXES, IMAGESTORE, MONITOR, PROVISIONER, REGISTRY

STREAM_OF = {
    "registry": REGISTRY.name,
    "imagestore": IMAGESTORE.name,
    "provisioner": PROVISIONER.name,
    "monitor": MONITOR.name,
    "box": BOXES.name,
}


def _channel_address(subject: str) -> str:
    return subject.replace("{box_id}", "{boxId}")


def asyncapi_document() -> dict[str, Any]:
    channels: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    envelope_schema = Envelope.model_json_schema()
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
                    {"$ref": "#/components/schemas/Envelope"},
                    {
                        "type": "object",
                        "properties": {
                            "type": {"const": type_},
                            "version": {"const": version},
                            "data": cls.model_json_schema(),
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
        "components": {"messages": messages, "schemas": {"Envelope": envelope_schema}},
    }
