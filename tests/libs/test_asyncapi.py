"""The AsyncAPI document: valid against the official schema, every reference resolvable."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import jsonschema
import pytest

from guificloud.events.asyncapi import asyncapi_document
from guificloud.events.catalogue import CATALOGUE
from guificloud.events.envelope import Envelope
from guificloud.events.registry import DeviceAdded, Hardware

pytestmark = pytest.mark.unit

OFFICIAL_SCHEMA = Path(__file__).parent / "asyncapi_spec" / "asyncapi-3.0.0.schema.json"


def _document() -> dict[str, Any]:
    """The document as a subscriber reads it: through JSON."""
    loaded: dict[str, Any] = json.loads(json.dumps(asyncapi_document()))
    return loaded


def _refs(node: Any, at: str = "#") -> Iterator[tuple[str, str]]:
    """Every ``$ref`` in the document, with where it stands."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield at, value
            else:
                yield from _refs(value, f"{at}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _refs(value, f"{at}/{index}")


def _resolve(document: dict[str, Any], ref: str) -> Any:
    """Follow a local JSON pointer (RFC 6901); KeyError or IndexError if it leads nowhere."""
    assert ref.startswith("#/"), f"{ref} is not a reference inside the document"
    node: Any = document
    for token in ref[2:].split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        node = node[int(token)] if isinstance(node, list) else node[token]
    return node


def test_every_reference_resolves() -> None:
    document = _document()
    dangling = []
    for at, ref in _refs(document):
        try:
            _resolve(document, ref)
        except (KeyError, IndexError, ValueError):
            dangling.append(f"{ref} (at {at})")
    assert not dangling, "dangling $ref:\n" + "\n".join(dangling)


def test_the_document_is_valid_asyncapi_3() -> None:
    validator = jsonschema.Draft7Validator(json.loads(OFFICIAL_SCHEMA.read_text()))
    document = _document()
    errors = [
        f"{'/'.join(str(p) for p in e.absolute_path)}: {e.message}"
        for e in validator.iter_errors(document)
    ]
    assert not errors, "\n".join(errors[:20])
    # The schema is strict enough to refuse a misspelt field.
    channel = next(iter(document["channels"].values()))
    channel["adress"] = channel.pop("address")
    assert not validator.is_valid(document)


def test_the_envelope_requires_what_every_event_carries() -> None:
    envelope = _document()["components"]["schemas"]["Envelope"]
    always_present = {
        "id",
        "type",
        "version",
        "occurred_at",
        "source",
        "correlation_id",
        "causation_id",
        "data",
    }
    assert always_present <= set(envelope["required"])
    assert set(Envelope.model_fields) == always_present


def test_an_event_on_the_wire_matches_its_message() -> None:
    document = _document()
    event = DeviceAdded(
        device_id=uuid4(),
        node_id=uuid4(),
        zone_id=uuid4(),
        name="b",
        type="cloudbox",
        hardware=Hardware(arch="arm64", cores=4, ram_mb=4096, disk_gb=64),
    )
    wire = json.loads(Envelope.wrap(event, source="registry").model_dump_json())
    payload = document["components"]["messages"]["registry_device_added_v1"]["payload"]
    schema = {**payload, "components": document["components"]}
    jsonschema.Draft202012Validator(schema).validate(wire)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(schema).validate(
            {k: v for k, v in wire.items() if k != "id"}
        )


def test_asyncapi_lists_every_event_with_its_payload_schema() -> None:
    document = _document()
    addresses = {c["address"] for c in document["channels"].values()}
    assert {cls.SUBJECT.replace("{box_id}", "{boxId}") for cls in CATALOGUE.values()} == addresses
    message = document["components"]["messages"]["registry_device_added_v1"]
    data = message["payload"]["allOf"][1]["properties"]["data"]
    assert "hardware" in _resolve(document, data["$ref"])["properties"]
