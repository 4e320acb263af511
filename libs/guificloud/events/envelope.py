"""The envelope every event and command travels in, and the base class of their payloads.

A payload class names its ``TYPE`` (``<service>.<entity>.<past-tense-verb>``), its schema
``VERSION`` and its ``SUBJECT`` (a template filled from the payload's own fields, so that
``agent.{box_id}.reported`` becomes ``agent.7f3….reported``). Adding an optional field is
compatible; anything else is a new ``VERSION`` registered beside the old one.

The template is also what a consumer holds a message to: each ``{field}`` of it declares that
the subject token there and the payload's field must agree (:meth:`Event.subject_mismatch`),
so that a box allowed to publish under ``agent.<its id>.>`` cannot speak for another box.
"""

from __future__ import annotations

import functools
import string
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, Field

from guificloud.logging import current_correlation_id


class Event(BaseModel):
    """Base of every payload: frozen, unknown fields ignored (newer producers may add some)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    TYPE: ClassVar[str]
    VERSION: ClassVar[int] = 1
    SUBJECT: ClassVar[str]

    def subject(self) -> str:
        """``SUBJECT`` filled from the fields it names (only those: this runs for every
        message a consumer takes, heartbeats included, so no whole dump of the payload)."""
        return self.SUBJECT.format_map({name: getattr(self, name) for name in _named(self.SUBJECT)})

    def subject_mismatch(self, subject: str) -> str | None:
        """Why a message on ``subject`` cannot carry this payload, or None if it can: a token
        the template fills from a field (``{box_id}``) names another value than the payload's
        field, or the subject is not of the template's form at all."""
        expected = self.subject()
        if subject == expected:
            return None
        template = self.SUBJECT.split(".")
        given = subject.split(".")
        if len(given) == len(template):
            for token, want, got in zip(template, expected.split("."), given, strict=True):
                if got == want:
                    continue
                if not token.startswith("{"):
                    break
                what = token.strip("{}").removesuffix("_id")
                return f"subject {subject} names {what} {got}, the payload {what} {want}"
        return f"subject {subject} is not one of {self.TYPE} ({self.SUBJECT})"


@functools.cache
def _named(template: str) -> tuple[str, ...]:
    """The field names a subject template fills (``{box_id}``), parsed once per template."""
    return tuple(name for _, name, _, _ in string.Formatter().parse(template) if name)


E = TypeVar("E", bound=Event)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Envelope(BaseModel):
    """What goes on the wire: identity, lineage and the payload as plain data.

    Its schema in serialization mode (the AsyncAPI document's) lists every field as required:
    a sent envelope always carries them, ``causation_id`` as null when nothing caused it.
    """

    model_config = ConfigDict(frozen=True, json_schema_serialization_defaults_required=True)

    id: UUID = Field(default_factory=uuid4)
    type: str
    version: int
    occurred_at: datetime = Field(default_factory=utcnow)
    source: str
    correlation_id: str
    causation_id: str | None = None
    data: dict[str, Any]

    @classmethod
    def wrap(
        cls,
        event: Event,
        *,
        source: str,
        correlation_id: str | None = None,
        causation_id: str | None = None,
    ) -> Envelope:
        """Wrap a payload, taking the correlation id of the flow in progress when none is given."""
        event_id = uuid4()
        return cls(
            id=event_id,
            type=event.TYPE,
            version=event.VERSION,
            source=source,
            correlation_id=correlation_id or current_correlation_id() or str(event_id),
            causation_id=causation_id,
            data=event.model_dump(mode="json"),
        )
