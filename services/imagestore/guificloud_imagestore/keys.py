"""The publisher keys the store trusts: added and revoked by an operator, announced so that
boxes get them with their configuration."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select

from guificloud.db.uow import UnitOfWork
from guificloud.errors import Conflict, InvalidInput, NotFound
from guificloud.events.imagestore import PublisherKeyAdded, PublisherKeyRevoked
from guificloud.logging import get_logger
from guificloud.signing import key_id as key_id_of
from guificloud_imagestore.models import PublisherKey

log = get_logger(__name__)


def check_public_key(public_key: str) -> str:
    """The key as canonical base64 of its 32 raw bytes; 422 on anything else."""
    try:
        raw = base64.b64decode(public_key, validate=True)
        Ed25519PublicKey.from_public_bytes(raw)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput(
            "public_key must be base64 of the 32 raw bytes of an ed25519 public key",
            field="public_key",
        ) from exc
    return base64.b64encode(raw).decode()


async def add_key(
    uow: UnitOfWork, publisher: str, public_key: str, names: list[str]
) -> PublisherKey:
    """Trust a key (again, if it was revoked) for ``names`` and announce it; the caller
    commits."""
    public_key = check_public_key(public_key)
    kid = key_id_of(public_key)
    key = await uow.session.get(PublisherKey, kid, with_for_update=True)
    if key is not None and key.revoked_at is None:
        raise Conflict(f"key {kid} is already trusted, for publisher {key.publisher}")
    if key is None:
        key = PublisherKey(
            key_id=kid,
            public_key=public_key,
            publisher=publisher,
            names=names,
            created_at=datetime.now(UTC),
        )
        uow.session.add(key)
    else:
        key.publisher, key.names, key.revoked_at = publisher, names, None
    await uow.session.flush()
    uow.emit(
        PublisherKeyAdded(
            key_id=kid, public_key=public_key, publisher=publisher, names=tuple(names)
        )
    )
    log.info("key.added", key_id=kid, publisher=publisher, names=names)
    return key


async def list_keys(uow: UnitOfWork, *, include_revoked: bool = False) -> list[PublisherKey]:
    stmt = select(PublisherKey).order_by(PublisherKey.created_at, PublisherKey.key_id)
    if not include_revoked:
        stmt = stmt.where(PublisherKey.revoked_at.is_(None))
    return list(await uow.session.scalars(stmt))


async def revoke_key(uow: UnitOfWork, key_id: str) -> None:
    """Stop trusting a key; revoking a revoked key changes nothing."""
    key = await uow.session.get(PublisherKey, key_id, with_for_update=True)
    if key is None:
        raise NotFound(f"no publisher key {key_id}")
    if key.revoked_at is not None:
        return
    key.revoked_at = datetime.now(UTC)
    uow.emit(PublisherKeyRevoked(key_id=key_id))
    await uow.commit()
    log.info("key.revoked", key_id=key_id, publisher=key.publisher)
