"""Reading what arrives on ``box.<box_id>.>``: envelopes of commands, or garbage to ignore."""

from __future__ import annotations

from guificloud.errors import PermanentFailure
from guificloud.events.catalogue import decode
from guificloud.events.envelope import Envelope
from guificloud.events.provisioner import BoxSync


class BadCommand(ValueError):
    """Not a command this agent understands; logged and dropped."""


def parse_sync(payload: bytes, subject: str) -> tuple[BoxSync, Envelope]:
    """The command; a payload about another box than the subject's is refused (the agent
    subscribes to its own box's subjects only)."""
    try:
        envelope, command = decode(payload, subject=subject)
    except PermanentFailure as exc:
        raise BadCommand(str(exc)) from exc
    if not isinstance(command, BoxSync):
        raise BadCommand(f"unknown command type {envelope.type!r}")
    return command, envelope
