"""Which signatures the store accepts: ed25519 by a trusted publisher key, over the image.

Checked twice: before the bytes are read, with what is known (a required signature is
there, its key is trusted, and the signature verifies when the digest is given), and once
the digest is known. A refusal names the field to fix."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from guificloud.db.uow import UnitOfWork
from guificloud.errors import Forbidden, InvalidInput
from guificloud.key_names import may_sign
from guificloud.signing import SignatureError, verify
from guificloud_imagestore.models import PublisherKey
from guificloud_imagestore.schemas import ImageMeta


@dataclass(frozen=True)
class Signed:
    signature: str
    key_id: str
    publisher: str


async def trusted_keys(uow: UnitOfWork) -> dict[str, PublisherKey]:
    keys = await uow.session.scalars(select(PublisherKey).where(PublisherKey.revoked_at.is_(None)))
    return {key.key_id: key for key in keys}


async def check_signature(
    uow: UnitOfWork,
    meta: ImageMeta,
    *,
    digest: str | None,
    signature: str | None,
    key_id: str | None,
    required: bool,
) -> Signed | None:
    """The verified signature, None for an unsigned image the store accepts; else 422.

    With ``digest`` None only what can be checked without the bytes is."""
    if signature is None and key_id is None:
        if required:
            raise InvalidInput(
                "this image store accepts signed images only: give signature and key_id",
                field="signature",
            )
        return None
    if key_id is None:
        raise InvalidInput("a signature needs the key_id of the key that made it", field="key_id")
    if signature is None:
        raise InvalidInput(f"key_id {key_id} given without a signature", field="signature")
    key = (await trusted_keys(uow)).get(key_id)
    if key is None:
        raise InvalidInput(
            f"key {key_id} is not a trusted publisher key of this store (or was revoked)",
            field="key_id",
        )
    if not may_sign(key.names, meta.name):
        raise Forbidden(
            f"key {key_id} ({key.publisher}) is not bound to the image name {meta.name!r}; "
            f"it may sign {', '.join(key.names)}",
            field="key_id",
        )
    if digest is not None:
        try:
            verify(
                {key_id: key.public_key},
                signature,
                key_id,
                meta.name,
                meta.version,
                meta.arch,
                digest,
            )
        except SignatureError as exc:
            raise InvalidInput(str(exc), field="signature") from exc
    return Signed(signature=signature, key_id=key_id, publisher=key.publisher)
