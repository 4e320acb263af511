"""The errors that turn into a failed report: their message is the reason."""

from __future__ import annotations

from guificloud.states import SliverFailure


class DeployFailed(Exception):
    """The platform image could not be fetched, verified or started.

    The box stays ``failed`` until its desired state changes or a periodic resync retries.
    """

    @property
    def reason(self) -> str:
        return str(self)


class SliverFailed(Exception):
    """A step of a sliver's ladder failed; ``state`` is the ``fail_*`` state it reports."""

    def __init__(self, state: SliverFailure, reason: str) -> None:
        super().__init__(reason)
        self.state = state
        self.reason = reason
