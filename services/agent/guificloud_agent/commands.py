"""Reading what arrives on ``box.<box_id>.>``: envelopes of commands, or garbage to ignore."""

from __future__ import annotations

from uuid import UUID

from pydantic import ValidationError

from guificloud.events.envelope import Envelope
from guificloud.events.provisioner import BoxSync


class BadCommand(ValueError):
    """Not a command this agent understands; logged and dropped."""


def parse_sync(payload: bytes, box_id: UUID) -> tuple[BoxSync, Envelope]:
    try:
        envelope = Envelope.model_validate_json(payload)
    except ValidationError as exc:
        raise BadCommand(f"not an envelope: {exc.error_count()} errors") from exc
    if envelope.type != BoxSync.TYPE:
        raise BadCommand(f"unknown command type {envelope.type!r}")
    try:
        command = BoxSync.model_validate(envelope.data)
    except ValidationError as exc:
        raise BadCommand(f"invalid {BoxSync.TYPE}: {exc.error_count()} errors") from exc
    if command.box_id != box_id:
        raise BadCommand(f"command for box {command.box_id}")
    return command, envelope
