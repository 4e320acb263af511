"""Trusted publisher keys (``/api/v1/keys``): anyone reads them, an operator changes them."""

from __future__ import annotations

from fastapi import APIRouter, Response

from guificloud.http import AdminDep, UowDep
from guificloud.idempotency import IdempotencyDep
from guificloud_imagestore import keys
from guificloud_imagestore.models import PublisherKey
from guificloud_imagestore.schemas import KeyIn, KeyOut

router = APIRouter(prefix="/api/v1", tags=["keys"])


def key_out(key: PublisherKey) -> KeyOut:
    return KeyOut(
        key_id=key.key_id,
        publisher=key.publisher,
        public_key=key.public_key,
        names=list(key.names),
        created_at=key.created_at,
        revoked_at=key.revoked_at,
    )


@router.post("/keys", status_code=201, response_model=KeyOut, dependencies=[AdminDep])
async def add_key(body: KeyIn, uow: UowDep, once: IdempotencyDep) -> Response:
    """Trust an ed25519 publisher key for the image names it may sign; its id is the first
    16 hex digits of its sha256. The distro's name must be named exactly."""

    async def make() -> KeyOut:
        return key_out(await keys.add_key(uow, body.publisher, body.public_key, list(body.names)))

    return await once.run(uow, make, status_code=201)


@router.get("/keys", response_model=list[KeyOut])
async def list_keys(uow: UowDep, include_revoked: bool = False) -> list[KeyOut]:
    return [key_out(k) for k in await keys.list_keys(uow, include_revoked=include_revoked)]


@router.delete("/keys/{key_id}", status_code=204, response_class=Response, dependencies=[AdminDep])
async def revoke_key(key_id: str, uow: UowDep) -> Response:
    """Stop trusting a key: new uploads signed with it are refused, boxes drop it."""
    await keys.revoke_key(uow, key_id)
    return Response(status_code=204)
