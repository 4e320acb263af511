"""The provisioner's whole schema, as migrations and the service definition need it.

The box tables (:mod:`guificloud_provisioner.models`) and the slice tables
(:mod:`guificloud_provisioner.slices.models`) share one ``metadata``; ``MODELS`` names
every mapped class, so whoever takes ``metadata`` from here has all of them on it. A new
module of tables is listed here.
"""

from __future__ import annotations

from guificloud_provisioner.models import (
    SCHEMA,
    Base,
    Box,
    BoxTransition,
    DistroImage,
    TrustedKey,
    messaging,
    metadata,
)
from guificloud_provisioner.slices.models import Slice, Sliver, SliverTransition, Zone

MODELS: tuple[type[Base], ...] = (
    Box,
    BoxTransition,
    DistroImage,
    TrustedKey,
    Zone,
    Slice,
    Sliver,
    SliverTransition,
)

__all__ = ["MODELS", "SCHEMA", "messaging", "metadata"]
