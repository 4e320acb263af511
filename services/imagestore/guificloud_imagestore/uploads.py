"""Upload sessions in the database: created, claimed by one writer at a time, advanced,
completed, cancelled, expired.

A request that appends to a session first *claims* it: a lease (``writer_until``) taken
with a conditional update, only at the offset the client believes in. No transaction stays
open while bytes flow; the offset is recorded once they are synced.

A session is its opener's: to anyone else (operators aside) it does not exist, so another
caller's session id answers 404 exactly as a finished or expired one does, and listings
show the caller's own sessions only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import delete, or_, select, update

from guificloud.auth.principal import Principal
from guificloud.db.uow import UnitOfWork
from guificloud.errors import Conflict, NotFound
from guificloud_imagestore.access import may_use_session
from guificloud_imagestore.commands import reserve_image
from guificloud_imagestore.models import Image, UploadSession
from guificloud_imagestore.quota import ensure_image_quota
from guificloud_imagestore.schemas import ImageMeta, UploadIn, UploadOut


class OffsetMismatch(Conflict):
    """The client is not where the server is; ``offset`` is where to go on from."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset

    def details(self) -> dict[str, Any]:
        return {"offset": self.offset}

    def headers(self) -> dict[str, str]:
        return {"Upload-Offset": str(self.offset)}


@dataclass(frozen=True)
class SessionView:
    """A session and its image, read in one transaction and used outside it."""

    id: UUID
    image_id: UUID
    meta: ImageMeta
    size: int
    offset: int
    digest: str | None
    signature: str | None
    key_id: str | None
    group_id: UUID | None
    opened_by: UUID | None
    created_at: datetime
    expires_at: datetime

    def out(self) -> UploadOut:
        return UploadOut(
            id=self.id,
            image_id=self.image_id,
            **self.meta.model_dump(),
            size=self.size,
            offset=self.offset,
            digest=self.digest,
            key_id=self.key_id,
            group_id=self.group_id,
            opened_by=self.opened_by,
            created_at=self.created_at,
            expires_at=self.expires_at,
            url=f"/api/v1/uploads/{self.id}",
        )


def view(session: UploadSession, image: Image) -> SessionView:
    return SessionView(
        id=session.id,
        image_id=image.id,
        meta=ImageMeta(
            name=image.name,
            version=image.version,
            arch=image.arch,
            format=image.format,
            channel=image.channel,
        ),
        size=session.size,
        offset=session.offset,
        digest=session.digest,
        signature=session.signature,
        key_id=session.key_id,
        group_id=image.group_id,
        opened_by=session.opened_by,
        created_at=session.created_at,
        expires_at=session.expires_at,
    )


async def create_session(
    uow: UnitOfWork, upload: UploadIn, *, by: UUID, ttl_s: float
) -> SessionView:
    """Reserve the image (``uploading``, in its group's quota) and open a session at offset 0
    that belongs to the account ``by``; the caller commits."""
    meta = ImageMeta(**upload.model_dump(include=set(ImageMeta.model_fields)))
    image = await reserve_image(uow, meta, group_id=upload.group_id, by=by)
    now = datetime.now(UTC)
    session = UploadSession(
        id=uuid4(),
        image_id=image.id,
        opened_by=by,
        size=upload.size,
        offset=0,
        digest=upload.digest,
        signature=upload.signature,
        key_id=upload.key_id,
        created_at=now,
        expires_at=now + timedelta(seconds=ttl_s),
    )
    uow.session.add(session)
    await uow.session.flush()
    return view(session, image)


async def get_session(
    uow: UnitOfWork, session_id: UUID, caller: Principal | None = None
) -> SessionView:
    """The session; 404 when it is gone, or is not ``caller``'s (when a caller is given)."""
    row = (
        await uow.session.execute(
            select(UploadSession, Image)
            .join(Image, Image.id == UploadSession.image_id)
            .where(UploadSession.id == session_id)
        )
    ).first()
    if row is None or (caller is not None and not may_use_session(caller, row[0].opened_by)):
        raise NotFound(f"no upload session {session_id} (finished, cancelled or expired)")
    return view(*row)


async def find_sessions(
    uow: UnitOfWork,
    caller: Principal,
    *,
    name: str | None,
    version: str | None,
    arch: str | None,
) -> list[SessionView]:
    """The caller's sessions in progress (an operator's: everyone's)."""
    stmt = (
        select(UploadSession, Image)
        .join(Image, Image.id == UploadSession.image_id)
        .order_by(UploadSession.created_at)
    )
    if not caller.is_operator:
        stmt = stmt.where(UploadSession.opened_by == caller.id)
    for column, value in ((Image.name, name), (Image.version, version), (Image.arch, arch)):
        if value is not None:
            stmt = stmt.where(column == value)
    return [view(*row) for row in (await uow.session.execute(stmt)).all()]


async def claim(
    uow: UnitOfWork,
    session_id: UUID,
    caller: Principal,
    *,
    offset: int | None,
    lease_s: float,
    ttl_s: float,
) -> SessionView:
    """Take the session's writer lease, at ``offset`` when given; commits.

    404 if it is gone or not the caller's, 409 with the server's offset if the client is
    elsewhere or another request is writing."""
    await get_session(uow, session_id, caller)
    now = datetime.now(UTC)
    stmt = (
        update(UploadSession)
        .where(
            UploadSession.id == session_id,
            or_(UploadSession.writer_until.is_(None), UploadSession.writer_until < now),
        )
        .values(
            writer_until=now + timedelta(seconds=lease_s),
            expires_at=now + timedelta(seconds=ttl_s),
        )
        .returning(UploadSession.id)
    )
    if offset is not None:
        stmt = stmt.where(UploadSession.offset == offset)
    claimed = (await uow.session.execute(stmt)).first()
    await uow.commit()
    current = await get_session(uow, session_id)
    if claimed is not None:
        return current
    if offset is not None and current.offset != offset:
        raise OffsetMismatch(
            f"Upload-Offset {offset} is not where this upload is: the server has "
            f"{current.offset} bytes; send from there",
            current.offset,
        )
    raise OffsetMismatch(
        "another request is sending bytes to this upload right now; retry later",
        current.offset,
    )


async def renew(uow: UnitOfWork, session_id: UUID, *, lease_s: float) -> None:
    await uow.session.execute(
        update(UploadSession)
        .where(UploadSession.id == session_id)
        .values(writer_until=datetime.now(UTC) + timedelta(seconds=lease_s))
    )
    await uow.commit()


async def release(
    uow: UnitOfWork, session_id: UUID, *, offset: int | None = None, ttl_s: float
) -> SessionView:
    """Give the lease back, recording the new offset when given; commits."""
    values: dict[str, object] = {
        "writer_until": None,
        "expires_at": datetime.now(UTC) + timedelta(seconds=ttl_s),
    }
    if offset is not None:
        values["offset"] = offset
    await uow.session.execute(
        update(UploadSession).where(UploadSession.id == session_id).values(**values)
    )
    await uow.commit()
    return await get_session(uow, session_id)


async def finish(uow: UnitOfWork, session_id: UUID) -> Image:
    """The session is done: its row goes, its image (locked) is returned to be activated,
    if its group's quota still has room for it. The caller commits."""
    session = await uow.session.get(UploadSession, session_id)
    if session is None:
        raise NotFound(f"no upload session {session_id}")
    group_id = await uow.session.scalar(select(Image.group_id).where(Image.id == session.image_id))
    await ensure_image_quota(uow, group_id, counted=session.image_id)  # group, then image
    image = await uow.session.get(Image, session.image_id, with_for_update=True)
    assert image is not None
    await uow.session.delete(session)
    await uow.session.flush()
    return image


async def drop(uow: UnitOfWork, session_id: UUID) -> None:
    """Forget the session and its reserved image (never published: no event); commits."""
    image_id = await uow.session.scalar(
        select(UploadSession.image_id).where(UploadSession.id == session_id)
    )
    if image_id is not None:
        await uow.session.execute(delete(Image).where(Image.id == image_id))
    await uow.commit()


async def expire(uow: UnitOfWork, *, limit: int = 500) -> list[UUID]:
    """Drop sessions past their expiry with no live writer; returns their ids; commits."""
    now = datetime.now(UTC)
    rows = (
        await uow.session.execute(
            select(UploadSession.id, UploadSession.image_id)
            .where(
                UploadSession.expires_at < now,
                or_(UploadSession.writer_until.is_(None), UploadSession.writer_until < now),
            )
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    ).all()
    if rows:
        await uow.session.execute(delete(Image).where(Image.id.in_([r.image_id for r in rows])))
    await uow.commit()
    return [r.id for r in rows]


async def live_sessions(uow: UnitOfWork, ids: set[UUID]) -> set[UUID]:
    if not ids:
        return set()
    stmt = select(UploadSession.id).where(UploadSession.id.in_(ids))
    return set(await uow.session.scalars(stmt))
