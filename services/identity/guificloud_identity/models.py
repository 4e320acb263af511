"""Tables of the identity schema: accounts, groups with roles, zone maintainers, tokens,
signing keys and the login throttle.

Nothing secret is stored in clear: passwords as Argon2id hashes, refresh and API tokens as
the sha256 of their random secret (32 bytes: no dictionary to try, so a slow hash buys
nothing), signing keys' private halves sealed with ``signing_key_secret`` where set.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from guificloud.db.idempotency import define_idempotency_table
from guificloud.db.messaging import define_messaging_tables

SCHEMA = "identity"
metadata = MetaData(schema=SCHEMA)
messaging = define_messaging_tables(metadata)
idempotency = define_idempotency_table(metadata)


class Base(DeclarativeBase):
    metadata = metadata
    __mapper_args__ = {"eager_defaults": True}


def _now() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now())


class Account(Base):
    """A member (a person, with a password) or a tool account (API tokens only)."""

    __tablename__ = "accounts"
    __table_args__ = (
        CheckConstraint("kind IN ('member', 'tool')", name="kind_known"),
        CheckConstraint("kind = 'member' OR password_hash IS NULL", name="tools_no_password"),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    login: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    description: Mapped[str | None] = mapped_column(Text)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    is_operator: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    disabled: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = _now()


class Group(Base):
    """CONFINE's group: operators decide whether it may have nodes and slices, and its
    quotas (null: no limit)."""

    __tablename__ = "groups"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    allow_nodes: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    allow_slices: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    quota_slivers: Mapped[int | None] = mapped_column(Integer)
    quota_memory_mb: Mapped[int | None] = mapped_column(Integer)
    quota_disk_mb: Mapped[int | None] = mapped_column(Integer)
    quota_images: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = _now()


class Membership(Base):
    """An account in a group, with its roles there (none: a plain member)."""

    __tablename__ = "memberships"

    group_id: Mapped[UUID] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
    account_id: Mapped[UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    roles: Mapped[list[str]] = mapped_column(ARRAY(String(16)), server_default=text("'{}'"))
    created_at: Mapped[datetime] = _now()


class Maintainer(Base):
    """An account or a group maintaining a zone subtree (the zone's id; the tree is the
    registry's)."""

    __tablename__ = "maintainers"
    __table_args__ = (
        CheckConstraint("num_nonnulls(account_id, group_id) = 1", name="one_maintainer"),
        Index("ux_identity_maintainers_zone_account", "zone_id", "account_id", unique=True),
        Index("ux_identity_maintainers_zone_group", "zone_id", "group_id", unique=True),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True)
    zone_id: Mapped[UUID] = mapped_column(index=True)
    account_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    group_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = _now()


class Token(Base):
    """A refresh token (a login's session) or an API token; ``id`` is the public part of
    the token, ``secret_hash`` the sha256 of its secret part."""

    __tablename__ = "tokens"
    __table_args__ = (CheckConstraint("kind IN ('refresh', 'api')", name="kind_known"),)

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    account_id: Mapped[UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(8))
    name: Mapped[str | None] = mapped_column(String(100))
    secret_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[str] | None] = mapped_column(ARRAY(String(64)))
    created_at: Mapped[datetime] = _now()
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class StoredKey(Base):
    """A token signing key. The newest unretired one signs; a retired one stays published
    until the tokens it signed have expired (``retired_at`` + access token lifetime)."""

    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(32), primary_key=True)
    private_key: Mapped[bytes] = mapped_column(LargeBinary)
    sealed: Mapped[bool] = mapped_column(Boolean)
    public_jwk: Mapped[dict[str, str]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = _now()
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class LoginFailures(Base):
    """Failed logins counted per account (``login:<name>``) and per client address
    (``address:<ip>``), shared by every instance of the service."""

    __tablename__ = "login_failures"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    blocked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
