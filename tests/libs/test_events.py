"""Event contracts: envelopes, decoding, dead-letter reasons."""

from __future__ import annotations

from uuid import uuid4

import pytest

from guificloud.errors import PermanentFailure
from guificloud.events.agent import AgentReported
from guificloud.events.catalogue import CATALOGUE, decode
from guificloud.events.envelope import Envelope
from guificloud.events.provisioner import BoxSync
from guificloud.events.registry import DeviceAdded, Hardware
from guificloud.logging import bind_contextvars

pytestmark = pytest.mark.unit


def _device() -> DeviceAdded:
    return DeviceAdded(
        device_id=uuid4(),
        node_id=uuid4(),
        zone_id=uuid4(),
        name="b",
        type="cloudy",
        hardware=Hardware(arch="amd64", cores=2, ram_mb=4096, disk_gb=64),
    )


def test_round_trip_through_the_wire() -> None:
    event = _device()
    envelope = Envelope.wrap(event, source="registry", correlation_id="flow-1")
    decoded_envelope, decoded = decode(envelope.model_dump_json().encode(), subject=event.subject())
    assert decoded == event
    assert decoded_envelope.correlation_id == "flow-1"
    assert decoded_envelope.type == "registry.device.added"


def test_correlation_comes_from_the_flow_in_progress() -> None:
    bind_contextvars(correlation_id="from-context")
    assert Envelope.wrap(_device(), source="x").correlation_id == "from-context"


def test_subject_templates_are_filled_from_the_payload() -> None:
    box = uuid4()
    assert BoxSync(box_id=box, generation=1).subject() == f"box.{box}.sync"


def test_newer_producers_may_add_optional_fields() -> None:
    event = _device()
    envelope = Envelope.wrap(event, source="registry")
    newer = envelope.model_copy(update={"data": {**envelope.data, "added_later": 1}})
    assert decode(newer.model_dump_json().encode(), subject=event.subject())[1] == event


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"\xff not json", "malformed envelope"),
        (b'{"type": "registry.device.added"}', "malformed envelope"),
        (
            Envelope(type="nobody.knows.me", version=1, source="x", correlation_id="c", data={})
            .model_dump_json()
            .encode(),
            "unknown event type 'nobody.knows.me'",
        ),
        (
            Envelope(
                type="registry.device.added", version=9, source="x", correlation_id="c", data={}
            )
            .model_dump_json()
            .encode(),
            "version 9",
        ),
        (
            Envelope(
                type="registry.device.added",
                version=1,
                source="x",
                correlation_id="c",
                data={"device_id": "nope"},
            )
            .model_dump_json()
            .encode(),
            "device_id",
        ),
    ],
)
def test_what_cannot_be_decoded_says_why(raw: bytes, reason: str) -> None:
    with pytest.raises(PermanentFailure, match=reason):
        decode(raw, subject="registry.device.added")


@pytest.mark.parametrize(
    ("subject", "reason"),
    [
        (
            "agent.{other}.reported",
            "subject agent.{other}.reported names box {other}, the payload box {box}",
        ),
        (
            "agent.{box}.heartbeat",
            "subject agent.{box}.heartbeat is not one of agent.box.reported"
            " (agent.{{box_id}}.reported)",
        ),
        (
            "agent.{box}.reported.again",
            "subject agent.{box}.reported.again is not one of agent.box.reported"
            " (agent.{{box_id}}.reported)",
        ),
    ],
)
def test_a_subject_that_is_not_the_payloads_says_whose_it_is(subject: str, reason: str) -> None:
    """The check each ``{field}`` of a subject template declares, made by ``decode``."""
    box, other = uuid4(), uuid4()
    report = AgentReported(box_id=box, state="running", generation=1, driver="simulated")
    raw = Envelope.wrap(report, source="x").model_dump_json().encode()
    with pytest.raises(PermanentFailure) as refused:
        decode(raw, subject=subject.format(box=box, other=other))
    assert str(refused.value) == reason.format(box=box, other=other)
    assert decode(raw, subject=report.subject())[1] == report


def test_every_type_is_registered_once_with_its_subject_family() -> None:
    for (type_, _version), cls in CATALOGUE.items():
        assert type_.split(".")[0] in {
            "registry",
            "imagestore",
            "provisioner",
            "identity",
            "monitor",
            "agent",
            "box",
        }
        assert cls.SUBJECT.split(".")[0] == type_.split(".")[0]
