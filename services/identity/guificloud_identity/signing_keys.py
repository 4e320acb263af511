"""The token signing keys, kept in the identity database so every instance signs with the
same key and publishes the same set.

The newest unretired key signs. Rotating adds a new key and retires the others: a retired
key stays published for one access token lifetime (plus a minute of leeway), until every
token it signed has expired, then it is deleted. A private half is sealed with AES-GCM under
``signing_key_secret`` when that is set (required outside development).
"""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import delete, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from guificloud.auth.signer import SigningKey
from guificloud.logging import get_logger
from guificloud_identity.models import StoredKey
from guificloud_identity.settings import IdentitySettings

log = get_logger(__name__)

KEY_LOCK = 0x6964_6B65  # one instance makes the first key; the others then find it
LEEWAY = timedelta(minutes=1)
NONCE_BYTES = 12


class KeyStore:
    def __init__(self, settings: IdentitySettings) -> None:
        secret = settings.signing_key_secret
        self._aead = (
            AESGCM(hashlib.sha256(secret.get_secret_value().encode()).digest())
            if secret is not None
            else None
        )
        self._published_for = timedelta(seconds=settings.access_token_ttl_s) + LEEWAY

    def _seal(self, key: SigningKey) -> tuple[bytes, bool]:
        raw = key.raw_private()
        if self._aead is None:
            return raw, False
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, raw, key.kid.encode()), True

    def _unseal(self, row: StoredKey) -> SigningKey:
        if not row.sealed:
            return SigningKey.from_raw(row.private_key)
        if self._aead is None:
            raise RuntimeError(
                f"signing key {row.kid} is sealed: GUIFICLOUD_IDENTITY_SIGNING_KEY_SECRET is needed"
            )
        nonce, sealed = row.private_key[:NONCE_BYTES], row.private_key[NONCE_BYTES:]
        return SigningKey.from_raw(self._aead.decrypt(nonce, sealed, row.kid.encode()))

    async def _add(self, session: AsyncSession) -> SigningKey:
        key = SigningKey.generate()
        private, sealed = self._seal(key)
        session.add(
            StoredKey(kid=key.kid, private_key=private, sealed=sealed, public_jwk=key.public_jwk())
        )
        await session.flush()
        log.info("identity.key_added", kid=key.kid, sealed=sealed)
        return key

    async def current(self, session: AsyncSession) -> SigningKey:
        """The key that signs now; the first is made on first use."""
        newest = select(StoredKey).where(StoredKey.retired_at.is_(None))
        newest = newest.order_by(StoredKey.created_at.desc()).limit(1)
        row = await session.scalar(newest)
        if row is None:
            await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": KEY_LOCK})
            row = await session.scalar(newest)
            if row is None:
                return await self._add(session)
        return self._unseal(row)

    async def rotate(self, session: AsyncSession) -> SigningKey:
        """A new signing key; the ones before stay published until their tokens expire."""
        await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": KEY_LOCK})
        now = datetime.now(UTC)
        await session.execute(
            update(StoredKey).where(StoredKey.retired_at.is_(None)).values(retired_at=now)
        )
        await session.execute(
            delete(StoredKey).where(StoredKey.retired_at < now - self._published_for)
        )
        return await self._add(session)

    async def published(self, session: AsyncSession) -> dict[str, Any]:
        """The JWKS document: every key whose signatures may still be valid."""
        since = datetime.now(UTC) - self._published_for
        rows = await session.scalars(
            select(StoredKey.public_jwk)
            .where(or_(StoredKey.retired_at.is_(None), StoredKey.retired_at > since))
            .order_by(StoredKey.created_at.desc())
        )
        return {"keys": list(rows)}
