"""Radios, interfaces and links of devices, as CNML carries them (read-only in the API)."""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel, ConfigDict


class RadioOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    ordinal: int
    ssid: str | None
    mode: str | None
    protocol: str | None
    channel: str | None
    antenna_angle: int | None
    antenna_gain: int | None
    antenna_azimuth: int | None
    clients_accepted: bool | None
    snmp_name: str | None
    snmp_index: str | None


class AddressOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    ipv4: str
    mask: str | None


class InterfaceOut(BaseModel):
    id: UUID
    external_id: int | None
    radio_id: UUID | None
    type: str | None
    mac: str | None
    addresses: list[AddressOut]


class LinkEnd(BaseModel):
    device_id: UUID | None
    interface_id: UUID | None
    guifi_node_id: int | None
    guifi_device_id: int | None
    guifi_interface_id: int | None


class LinkOut(BaseModel):
    id: UUID
    external_id: int | None
    type: str | None
    status: str | None
    ends: tuple[LinkEnd, LinkEnd]
