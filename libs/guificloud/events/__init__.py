"""Event contracts: one module per family, all registered in :mod:`guificloud.events.catalogue`."""

from guificloud.events.envelope import Envelope, Event

__all__ = ["Envelope", "Event"]
