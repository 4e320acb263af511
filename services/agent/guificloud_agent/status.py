"""The agent's actual state, as it reports it."""

from __future__ import annotations

from dataclasses import dataclass

from guificloud.states import AgentState


@dataclass(frozen=True)
class Status:
    state: AgentState
    generation: int
    distro_digest: str | None = None
    reason: str | None = None
