"""Applying a partial update to a record and saying what changed (for the event)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from guificloud.errors import Conflict


def assign(record: Any, values: Mapping[str, Any]) -> dict[str, Any]:
    """Set the attributes whose value differs; return those."""
    changed: dict[str, Any] = {}
    for name, value in values.items():
        if getattr(record, name) != value:
            setattr(record, name, value)
            changed[name] = value
    return changed


def touch(record: Any) -> None:
    """A changed record gets a new version (its ETag) and update time."""
    record.version = record.version + 1
    record.updated_at = datetime.now(UTC)


async def ensure_external_id_free(
    session: AsyncSession, model: type[Any], external_id: int | None
) -> None:
    """Two records may not claim the same guifi.net id."""
    if external_id is None:
        return
    taken = await session.scalar(select(model.id).where(model.external_id == external_id))
    if taken is not None:
        raise Conflict(
            f"guifi.net id {external_id} already belongs to {model.__name__.lower()} {taken}",
            field="external_id",
        )
