"""Every event type the system knows, by ``(type, version)``, and decoding of envelopes."""

from __future__ import annotations

from pydantic import ValidationError

from guificloud.errors import PermanentFailure
from guificloud.events import agent, identity, imagestore, monitor, provisioner, registry
from guificloud.events.envelope import Envelope, Event

FAMILIES = (registry, imagestore, provisioner, agent, monitor, identity)


def _collect() -> dict[tuple[str, int], type[Event]]:
    """Every concrete event class of the family modules (those naming a ``TYPE``)."""
    found: dict[tuple[str, int], type[Event]] = {}
    for module in FAMILIES:
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, Event)
                and value.__module__ == module.__name__
                and "TYPE" in vars(value)
            ):
                key = (value.TYPE, value.VERSION)
                if key in found:
                    raise RuntimeError(f"event type {key} defined twice")
                found[key] = value
    return found


CATALOGUE: dict[tuple[str, int], type[Event]] = _collect()


def decode(raw: bytes, *, subject: str) -> tuple[Envelope, Event]:
    """Parse a message body received on ``subject``; raise :class:`PermanentFailure` with the
    reason if it cannot be, or if the subject is not the payload's (a box speaking for
    another: see :meth:`Event.subject_mismatch`)."""
    try:
        envelope = Envelope.model_validate_json(raw)
    except ValidationError as exc:
        raise PermanentFailure(f"malformed envelope: {_summary(exc)}") from exc
    cls = CATALOGUE.get((envelope.type, envelope.version))
    if cls is None:
        raise PermanentFailure(f"unknown event type {envelope.type!r} version {envelope.version}")
    try:
        event = cls.model_validate(envelope.data)
    except ValidationError as exc:
        raise PermanentFailure(f"invalid {envelope.type} payload: {_summary(exc)}") from exc
    if (mismatch := event.subject_mismatch(subject)) is not None:
        raise PermanentFailure(mismatch)
    return envelope, event


def _summary(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}" for err in exc.errors()
    )[:1000]
