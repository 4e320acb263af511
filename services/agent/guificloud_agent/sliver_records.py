"""What the agent knows of its slivers, kept in ``state_dir/slivers.json``.

After a restart the agent reads it back and so knows which containers are its slivers and
what they hold: a running sliver is adopted as it is, never restarted. Each change is
written whole and atomically (the file is small: a few slivers per box).
"""

from __future__ import annotations

import os
from pathlib import Path
from uuid import UUID

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from guificloud.boxes import SliverSpec
from guificloud.events.agent import SliverStatus
from guificloud.logging import get_logger
from guificloud.states import SetState, SliverActualState, sliver_failed
from guificloud_agent.capacity import Reservation

log = get_logger(__name__)

RECORD_FILE = "slivers.json"


def container_name(sliver_id: UUID, instance: int) -> str:
    return f"sliver-{sliver_id.hex[:12]}-{instance}"


class SliverRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    sliver_id: UUID
    instance: int
    image_digest: str
    memory_mb: int
    disk_mb: int
    cpu_share: float
    state: SliverActualState
    reason: str | None = None
    wanted: SetState
    """The set state the agent was working toward when it reached ``state``."""

    @classmethod
    def of(
        cls, spec: SliverSpec, state: SliverActualState, reason: str | None = None
    ) -> SliverRecord:
        return cls(
            sliver_id=spec.sliver_id,
            instance=spec.instance,
            image_digest=spec.image.digest,
            memory_mb=spec.memory_mb,
            disk_mb=spec.disk_mb,
            cpu_share=spec.cpu_share,
            state=state,
            reason=reason,
            wanted=spec.set_state,
        )

    @property
    def container(self) -> str:
        return container_name(self.sliver_id, self.instance)

    @property
    def reservation(self) -> Reservation:
        return Reservation(memory_mb=self.memory_mb, disk_mb=self.disk_mb)

    @property
    def failed(self) -> bool:
        return sliver_failed(self.state)

    def same_build(self, spec: SliverSpec) -> bool:
        """Whether the container of this record is the one ``spec`` asks for; otherwise it is
        destroyed and made again (a reset, another image, other limits)."""
        return (self.instance, self.image_digest, self.memory_mb, self.disk_mb, self.cpu_share) == (
            spec.instance,
            spec.image.digest,
            spec.memory_mb,
            spec.disk_mb,
            spec.cpu_share,
        )

    def status(self) -> SliverStatus:
        return SliverStatus(
            sliver_id=self.sliver_id,
            instance=self.instance,
            state=self.state,
            image_digest=self.image_digest,
            reason=self.reason,
        )


_RECORDS = TypeAdapter(list[SliverRecord])


class SliverRecords:
    def __init__(self, state_dir: Path) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        self._file = state_dir / RECORD_FILE
        self.records: dict[UUID, SliverRecord] = {r.sliver_id: r for r in self._load()}

    def _load(self) -> list[SliverRecord]:
        try:
            return _RECORDS.validate_json(self._file.read_bytes())
        except FileNotFoundError:
            return []
        except ValidationError as exc:
            log.warning("slivers.record_unreadable", file=str(self._file), error=str(exc))
            return []

    def get(self, sliver_id: UUID) -> SliverRecord | None:
        return self.records.get(sliver_id)

    def put(self, record: SliverRecord) -> None:
        self.records[record.sliver_id] = record
        self._save()

    def drop(self, sliver_id: UUID) -> None:
        if self.records.pop(sliver_id, None) is not None:
            self._save()

    def _save(self) -> None:
        tmp = self._file.with_suffix(".tmp")
        tmp.write_bytes(_RECORDS.dump_json(list(self.records.values())))
        os.replace(tmp, self._file)
