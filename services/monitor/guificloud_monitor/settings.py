"""Settings of the monitor (``GUIFICLOUD_MONITOR_*``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from guificloud.settings import DEFAULT_PORTS, ServiceSettings
from guificloud.streams import DAY_S


class MonitorSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="GUIFICLOUD_MONITOR_", extra="ignore", populate_by_name=True, frozen=True
    )

    service: str = "monitor"
    port: int = DEFAULT_PORTS["monitor"]
    queue_group: str = Field(
        "monitor", min_length=1, description="NATS queue group shared by every monitor instance."
    )
    offline_after_missed: int = Field(
        3,
        ge=1,
        description=("A box is declared offline when it has missed this many heartbeat intervals."),
    )
    sweep_interval_s: float = Field(
        1.0,
        gt=0,
        description=(
            "Longest pause of the offline sweeper; it sweeps every quarter of the shortest "
            "heartbeat interval of the online boxes when that is shorter."
        ),
    )
    batch_interval_s: float = Field(0.2, gt=0, description="Heartbeats are flushed this often.")
    batch_max: int = Field(500, ge=1, le=2000, description="...or as soon as this many wait.")
    buffer_max: int = Field(
        20_000,
        ge=1,
        description=(
            "Heartbeats kept while the database is unreachable; the oldest are dropped beyond."
        ),
    )
    heartbeat_retention_s: float = Field(
        7 * DAY_S, gt=0, description=("Heartbeat history older than this is deleted.")
    )
    retention_interval_s: float = Field(60.0, gt=0, description="How often history is trimmed.")
    retention_batch: int = Field(5_000, ge=1, description="Rows deleted per statement.")
