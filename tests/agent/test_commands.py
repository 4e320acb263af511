"""What the agent takes from ``box.<its id>.>``: a sync command about itself, nothing else."""

from __future__ import annotations

from uuid import uuid4

import pytest

from guificloud.events.envelope import Envelope, utcnow
from guificloud.events.monitor import BoxOnline
from guificloud.events.provisioner import BoxSync
from guificloud_agent.commands import BadCommand, parse_sync

pytestmark = pytest.mark.unit


def _wire(event: BoxSync | BoxOnline) -> bytes:
    wire: bytes = Envelope.wrap(event, source="test").model_dump_json().encode()
    return wire


def test_a_sync_about_this_box_is_taken() -> None:
    command = BoxSync(box_id=uuid4(), generation=3)
    assert parse_sync(_wire(command), command.subject())[0] == command


def test_a_sync_about_another_box_on_this_boxs_subject_is_refused() -> None:
    mine, other = uuid4(), uuid4()
    with pytest.raises(BadCommand, match=f"names box {mine}, the payload box {other}"):
        parse_sync(_wire(BoxSync(box_id=other, generation=3)), f"box.{mine}.sync")


def test_another_event_is_refused() -> None:
    box = uuid4()
    with pytest.raises(BadCommand, match="is not one of monitor.box.online"):
        parse_sync(_wire(BoxOnline(box_id=box, last_seen=utcnow())), f"box.{box}.sync")
