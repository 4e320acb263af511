"""Tables of the registry schema: the network model guifi.net itself uses.

``external_id`` columns hold guifi.net's ids, so that our records link back to guifi.net and a
CNML import finds what it imported before. ``version`` counts changes (the ETag of a record).
``Zone.path`` is the materialized path of the zone tree (``/<hex id>/<hex id>/``, byte-wise
collation) so that "every node in this zone's subtree" is one indexed prefix scan.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    func,
    literal_column,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from guificloud.db.group_facts import GroupFacts
from guificloud.db.idempotency import define_idempotency_table
from guificloud.db.messaging import define_messaging_tables

SCHEMA = "registry"
metadata = MetaData(schema=SCHEMA)
messaging = define_messaging_tables(metadata)
idempotency = define_idempotency_table(metadata)
groups = GroupFacts(metadata)
"""What the registry knows of the identity service's groups (may a group have nodes)."""


class Base(DeclarativeBase):
    metadata = metadata
    # Server-made values come back with the INSERT or UPDATE (RETURNING): nothing read after
    # a commit goes back to the database, so a database gone by then cannot fail a response.
    __mapper_args__ = {"eager_defaults": True}


def unaccented(value: Any) -> Any:
    """``registry.unaccented(value)``: without accents ("Málaga" → "Malaga"), the form text
    search compares (the migration defines it over the ``unaccent`` extension)."""
    return func.registry.unaccented(value, type_=Text)


def _trigram(table: str, column: str) -> Index:
    """Text search (``unaccented(column) ILIKE unaccented('%...%')``) through pg_trgm; the
    migration creates these only where the extension can be installed, and the same query
    then scans instead."""
    label = f"{column}_unaccented"
    return Index(
        f"ix_registry_{table}_{column}_trgm",
        unaccented(literal_column(column)).label(label),
        postgresql_using="gin",
        postgresql_ops={label: "gin_trgm_ops"},
    )


def _created() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now())


def _updated() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now())


def _version() -> Mapped[int]:
    return mapped_column(Integer, server_default=text("1"))


class Zone(Base):
    __tablename__ = "zones"
    __table_args__ = (
        CheckConstraint(
            "num_nonnulls(min_lon, min_lat, max_lon, max_lat) IN (0, 4)", name="box_whole_or_none"
        ),
        Index("ix_registry_zones_name_id", "name", "id"),
        _trigram("zones", "name"),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True)
    external_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    name: Mapped[str] = mapped_column(String(200))
    nick: Mapped[str | None] = mapped_column(String(40))
    parent_id: Mapped[UUID | None] = mapped_column(ForeignKey("zones.id"), index=True)
    parent_external_id: Mapped[int | None] = mapped_column(BigInteger)
    """guifi.net's ``parent_id`` of a zone imported without its parent zone (so that an
    export says it again); none once the zone has a parent here, or was moved."""
    path: Mapped[str] = mapped_column(String(2000, collation="C"), index=True, unique=True)
    time_zone: Mapped[str | None] = mapped_column(String(32))
    min_lon: Mapped[float | None] = mapped_column(Float)
    min_lat: Mapped[float | None] = mapped_column(Float)
    max_lon: Mapped[float | None] = mapped_column(Float)
    max_lat: Mapped[float | None] = mapped_column(Float)
    dns_servers: Mapped[list[str] | None] = mapped_column(ARRAY(String(64)))
    ntp_servers: Mapped[list[str] | None] = mapped_column(ARRAY(String(64)))
    graph_server: Mapped[int | None] = mapped_column(BigInteger)
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()
    version: Mapped[int] = _version()


class Node(Base):
    __tablename__ = "nodes"
    __table_args__ = (
        Index("ix_registry_nodes_created_at_id", "created_at", "id"),
        Index("ix_registry_nodes_status", "status"),
        _trigram("nodes", "name"),
        _trigram("nodes", "nick"),
        Index(
            "ix_registry_nodes_location",
            text("point(longitude, latitude)"),
            postgresql_using="gist",
        ),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True)
    external_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    name: Mapped[str] = mapped_column(String(200))
    nick: Mapped[str | None] = mapped_column(String(40))
    zone_id: Mapped[UUID] = mapped_column(ForeignKey("zones.id"), index=True)
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    elevation: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    owner: Mapped[str | None] = mapped_column(String(200))
    """Who runs the node and how to reach them, as free text: contact data, shown only to
    the node's owners, its zone's maintainers and operators."""
    owner_account_id: Mapped[UUID | None] = mapped_column(index=True)
    owner_group_id: Mapped[UUID | None] = mapped_column(index=True)
    """Who the node belongs to (an account, a group, or both); neither for a node imported
    from guifi.net that nobody claimed yet."""
    graph_server: Mapped[int | None] = mapped_column(BigInteger)
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
    version: Mapped[int] = _version()


class Device(Base):
    __tablename__ = "devices"
    __table_args__ = (
        Index("ix_registry_devices_node_id_type", "node_id", "type"),
        Index("ix_registry_devices_created_at_id", "created_at", "id"),
        _trigram("devices", "name"),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True)
    external_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    node_id: Mapped[UUID] = mapped_column(ForeignKey("nodes.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(16), server_default=text("'Working'"))
    main_ipv4: Mapped[str | None] = mapped_column(String(45))
    model: Mapped[str | None] = mapped_column(String(200))
    firmware: Mapped[str | None] = mapped_column(String(100))
    snmp_index: Mapped[str | None] = mapped_column(String(32))
    graph_server: Mapped[int | None] = mapped_column(BigInteger)
    hardware: Mapped[dict[str, object] | None] = mapped_column(JSONB)
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()
    version: Mapped[int] = _version()


class Radio(Base):
    """A radio of a device; guifi.net numbers them within the device (``ordinal``)."""

    __tablename__ = "radios"
    __table_args__ = (UniqueConstraint("device_id", "ordinal"),)

    id: Mapped[UUID] = mapped_column(primary_key=True)
    device_id: Mapped[UUID] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    ordinal: Mapped[int] = mapped_column(Integer)
    ssid: Mapped[str | None] = mapped_column(String(64))
    mode: Mapped[str | None] = mapped_column(String(32))
    protocol: Mapped[str | None] = mapped_column(String(32))
    channel: Mapped[str | None] = mapped_column(String(16))
    antenna_angle: Mapped[int | None] = mapped_column(Integer)
    antenna_gain: Mapped[int | None] = mapped_column(Integer)
    antenna_azimuth: Mapped[int | None] = mapped_column(Integer)
    clients_accepted: Mapped[bool | None] = mapped_column(Boolean)
    snmp_name: Mapped[str | None] = mapped_column(String(64))
    snmp_index: Mapped[str | None] = mapped_column(String(32))
    description: Mapped[str | None] = mapped_column(Text)


class Interface(Base):
    """A network interface; ``type`` is free text in guifi.net (``wdsANDBlknRB750``...)."""

    __tablename__ = "interfaces"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    external_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    device_id: Mapped[UUID] = mapped_column(
        ForeignKey("devices.id", ondelete="CASCADE"), index=True
    )
    radio_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("radios.id", ondelete="SET NULL"), index=True
    )
    type: Mapped[str | None] = mapped_column(String(100))
    mac: Mapped[str | None] = mapped_column(String(17))


class Address(Base):
    """An IPv4 address of an interface (guifi.net gives some interfaces several)."""

    __tablename__ = "addresses"

    interface_id: Mapped[UUID] = mapped_column(
        ForeignKey("interfaces.id", ondelete="CASCADE"), primary_key=True
    )
    ipv4: Mapped[str] = mapped_column(String(45), primary_key=True)
    mask: Mapped[str | None] = mapped_column(String(45))


class Link(Base):
    """A link, stored once. Its two ends are ordered (``a`` before ``b`` by guifi ids) so
    that an export listing it at both ends, or at only one, finds the same record.

    An end's ``*_ext`` columns keep guifi.net's ids even when that end is not (yet) in the
    registry; its foreign keys are set once it is."""

    __tablename__ = "links"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    external_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    type: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str | None] = mapped_column(String(16))
    a_device_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("devices.id", ondelete="SET NULL"), index=True
    )
    a_interface_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("interfaces.id", ondelete="SET NULL")
    )
    b_device_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("devices.id", ondelete="SET NULL"), index=True
    )
    b_interface_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("interfaces.id", ondelete="SET NULL")
    )
    a_node_ext: Mapped[int | None] = mapped_column(BigInteger)
    a_device_ext: Mapped[int | None] = mapped_column(BigInteger)
    a_interface_ext: Mapped[int | None] = mapped_column(BigInteger)
    b_node_ext: Mapped[int | None] = mapped_column(BigInteger)
    b_device_ext: Mapped[int | None] = mapped_column(BigInteger)
    b_interface_ext: Mapped[int | None] = mapped_column(BigInteger)


class Service(Base):
    """A service in the directory: guifi.net's kinds and the cloud's own."""

    __tablename__ = "services"
    __table_args__ = (
        Index("ix_registry_services_created_at_id", "created_at", "id"),
        _trigram("services", "name"),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True)
    external_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    device_id: Mapped[UUID] = mapped_column(
        ForeignKey("devices.id", ondelete="CASCADE"), index=True
    )
    type: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(200))
    host: Mapped[str | None] = mapped_column(String(255))
    port: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()
    version: Mapped[int] = _version()
