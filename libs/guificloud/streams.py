"""Subjects and JetStream streams, defined once.

Subject hierarchy (full lowercase words):

- ``<service>.<entity>.<past-tense-verb>``: durable facts, e.g. ``registry.device.added``,
  one stream per publishing service (``REGISTRY``, ``IMAGESTORE``, ``PROVISIONER``,
  ``MONITOR``, ``IDENTITY``).
- ``box.<box_id>.<command>``: commands to one box (stream ``BOXES``, short retention: a
  box that is offline fetches its desired state when it comes back instead).
- ``agent.<box_id>.reported``: what a box says of its state (stream ``AGENTS``).
- ``agent.<box_id>.heartbeat``: telemetry over core NATS, not stored.
- ``deadletter.<service>.<consumer>``: messages a consumer could never handle, with the
  reason in the ``Guificloud-Reason`` header (stream ``DEADLETTER``).

The service that publishes into a stream declares it; the provisioner declares ``BOXES``
and ``AGENTS`` as the owner of the fleet; every service may declare ``DEADLETTER``.
"""

from __future__ import annotations

from dataclasses import dataclass

DAY_S = 86_400.0


@dataclass(frozen=True)
class StreamSpec:
    name: str
    subjects: tuple[str, ...]
    max_age_s: float = 30 * DAY_S
    duplicate_window_s: float = 120.0


REGISTRY = StreamSpec("REGISTRY", ("registry.>",))
IMAGESTORE = StreamSpec("IMAGESTORE", ("imagestore.>",))
PROVISIONER = StreamSpec("PROVISIONER", ("provisioner.>",))
MONITOR = StreamSpec("MONITOR", ("monitor.>",))
IDENTITY = StreamSpec("IDENTITY", ("identity.>",))
BOXES = StreamSpec("BOXES", ("box.>",), max_age_s=DAY_S)
AGENTS = StreamSpec("AGENTS", ("agent.*.reported",), max_age_s=7 * DAY_S)
DEADLETTER = StreamSpec("DEADLETTER", ("deadletter.>",), max_age_s=90 * DAY_S)

HEARTBEAT_SUBJECTS = "agent.*.heartbeat"


def deadletter_subject(service: str, consumer: str) -> str:
    return f"deadletter.{service}.{consumer}"
