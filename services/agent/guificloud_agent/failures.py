"""The one error that turns into a ``failed`` report: its message is the reason."""

from __future__ import annotations


class DeployFailed(Exception):
    """The platform image could not be fetched, verified or started.

    The box stays ``failed`` until its desired state changes or a periodic resync retries.
    """

    @property
    def reason(self) -> str:
        return str(self)
