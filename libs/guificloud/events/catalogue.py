"""Every event type the system knows, by ``(type, version)``, and decoding of envelopes."""

from __future__ import annotations

from pydantic import ValidationError

from guificloud.errors import PermanentFailure
from guificloud.events import agent, imagestore, monitor, provisioner, registry
from guificloud.events.envelope import Envelope, Event

CATALOGUE: dict[tuple[str, int], type[Event]] = {
    (cls.TYPE, cls.VERSION): cls
    for cls in (
        registry.ZoneCreated,
        registry.NodeCreated,
        registry.NodeUpdated,
        registry.DeviceAdded,
        imagestore.ImagePublished,
        provisioner.BoxRegistered,
        provisioner.BoxConfigured,
        provisioner.BoxDeploying,
        provisioner.BoxReady,
        provisioner.BoxFailed,
        provisioner.BoxSync,
        agent.AgentReported,
        agent.Heartbeat,
        monitor.BoxOnline,
        monitor.BoxOffline,
    )
}


def decode(raw: bytes) -> tuple[Envelope, Event]:
    """Parse a message body; raise :class:`PermanentFailure` with the reason if it cannot be."""
    try:
        envelope = Envelope.model_validate_json(raw)
    except ValidationError as exc:
        raise PermanentFailure(f"malformed envelope: {_summary(exc)}") from exc
    cls = CATALOGUE.get((envelope.type, envelope.version))
    if cls is None:
        raise PermanentFailure(f"unknown event type {envelope.type!r} version {envelope.version}")
    try:
        return envelope, cls.model_validate(envelope.data)
    except ValidationError as exc:
        raise PermanentFailure(f"invalid {envelope.type} payload: {_summary(exc)}") from exc


def _summary(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}" for err in exc.errors()
    )[:1000]
