"""How an import compares a file's records with stored rows and writes only the difference:
a plan per kind of record (rows to insert, changes to apply, changes to announce)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Table, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from guificloud.events.registry import ImportedChange, ImportVerb
from guificloud_registry.cnml.bulk import among, copy_rows, update_rows
from guificloud_registry.cnml.parse import CnmlError
from guificloud_registry.cnml.records import Record
from guificloud_registry.cnml.values import same_minute

DATES = frozenset({"created_at", "updated_at"})
OURS = frozenset({"nick", "owner", "hardware", "host", "port"})
"""Fields guifi.net's exports lack and ours add: absent means "as stored", not "none"."""
DEFAULTS = {"status": "Working"}


@dataclass
class Tally:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class Plan:
    """What one kind of record needs: rows to insert, changes to apply, events to emit."""

    table: Table
    versioned: bool = True
    inserts: list[dict[str, Any]] = field(default_factory=list)
    updates: list[tuple[UUID, dict[str, Any]]] = field(default_factory=list)
    changes: list[ImportedChange] = field(default_factory=list)
    tally: Tally = field(default_factory=Tally)

    def __post_init__(self) -> None:
        self.columns = [c.name for c in self.table.c if c.name != "version"]
        self.dated = "created_at" in self.columns

    def create(self, row_id: UUID, values: dict[str, Any], ext: int | None) -> None:
        row = {name: values.get(name) for name in self.columns}
        row["id"] = row_id
        for name, value in DEFAULTS.items():
            if name in row and row[name] is None:
                row[name] = value
        if self.dated:
            row["created_at"] = row["created_at"] or datetime.now(UTC)
            row["updated_at"] = row["updated_at"] or row["created_at"]
        self.inserts.append(row)
        self.changes.append(_change(row_id, ext, "created", values))
        self.tally.created += 1

    def reconcile(
        self, row: Any, values: dict[str, Any], ext: int | None, extra: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Compare with the stored row; queue and announce what differs."""
        changed = {
            k: val for k, val in values.items() if row[k] != val and not _same(k, row[k], val)
        }
        announced = {**changed, **(extra or {})}
        if changed:
            self.updates.append((row["id"], changed))
        if announced:
            self.changes.append(_change(row["id"], ext, "updated", announced))
            self.tally.updated += 1
        else:
            self.tally.unchanged += 1
        return announced


def _change(
    row_id: UUID, ext: int | None, verb: ImportVerb, changes: dict[str, Any]
) -> ImportedChange:
    """Built from values we made ourselves: no need to validate them again (110,000 times)."""
    return ImportedChange.model_construct(id=row_id, external_id=ext, verb=verb, changes=changes)


def _same(column: str, stored: Any, wanted: Any) -> bool:
    """For values that are not equal: the same all the same? (A date within the minute.)"""
    return column in DATES and (wanted is None or same_minute(stored, wanted))


def values_of(record: Record) -> dict[str, Any]:
    """The record's columns; a date (or a field of ours) the file does not give stays."""
    values = {
        k: val
        for k, val in record.fields.items()
        if not (val is None and (k in DATES or k in OURS))
    }
    if record.ext is not None:
        values["external_id"] = record.ext
    return values


class Matcher:
    """Finds stored rows again: by our uuid first, else by guifi.net id."""

    def __init__(self, rows: Iterable[Mapping[Any, Any]]) -> None:
        self.by_id: dict[UUID, Mapping[str, Any]] = {}
        self.by_ext: dict[int, Mapping[str, Any]] = {}
        for row in rows:
            self.by_id[row["id"]] = row
            if row["external_id"] is not None:
                self.by_ext[row["external_id"]] = row

    def find(self, record: Record, what: str) -> Any:
        row = self.by_id.get(record.uuid) if record.uuid else None
        if row is None and record.ext is not None:
            row = self.by_ext.get(record.ext)
        owner = self.by_ext.get(record.ext) if record.ext is not None else None
        if row is not None and owner is not None and owner["id"] != row["id"]:
            raise CnmlError(
                record.line, f"{what} {record.ext} is already another record's guifi.net id"
            )
        return row


async def stored_rows(session: AsyncSession, model: Any, records: Sequence[Record]) -> Matcher:
    exts = [r.ext for r in records if r.ext is not None]
    uuids = [r.uuid for r in records if r.uuid is not None]
    if not exts and not uuids:
        return Matcher(())
    rows = await session.execute(
        select(model.__table__).where(or_(among(model.external_id, exts), among(model.id, uuids)))
    )
    return Matcher(rows.mappings())


async def flush(session: AsyncSession, plan: Plan) -> None:
    """Write what the plan holds so far: COPY the new rows, apply the changes."""
    await copy_rows(session, plan.table, plan.inserts)
    await update_rows(session, plan.table, plan.updates, versioned=plan.versioned)
    plan.inserts, plan.updates = [], []
