"""What the registry's API takes and returns, one module per kind of record."""

from guificloud_registry.schemas.devices import DeviceIn, DeviceOut, DevicePatch
from guificloud_registry.schemas.network import AddressOut, InterfaceOut, LinkEnd, LinkOut, RadioOut
from guificloud_registry.schemas.nodes import LocationIn, NodeIn, NodeOut, NodePatch, OwnerIn
from guificloud_registry.schemas.services import ServiceIn, ServiceOut, ServicePatch
from guificloud_registry.schemas.zones import Box, ZoneIn, ZoneOut, ZonePatch

__all__ = [
    "AddressOut",
    "Box",
    "DeviceIn",
    "DeviceOut",
    "DevicePatch",
    "InterfaceOut",
    "LinkEnd",
    "LinkOut",
    "LocationIn",
    "NodeIn",
    "NodeOut",
    "NodePatch",
    "OwnerIn",
    "RadioOut",
    "ServiceIn",
    "ServiceOut",
    "ServicePatch",
    "ZoneIn",
    "ZoneOut",
    "ZonePatch",
]
