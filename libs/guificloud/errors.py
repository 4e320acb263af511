"""Domain errors: raised by handlers, translated at the edges (HTTP 4xx, dead letters)."""

from __future__ import annotations

from typing import Any
from uuid import UUID


class DomainError(Exception):
    """Base of the errors a caller caused; never a bug of ours."""

    status_code = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def details(self) -> dict[str, Any]:
        """Fields of the error's JSON body beside ``detail`` (what a client acts on)."""
        return {}

    def headers(self) -> dict[str, str]:
        """Headers of the error's response."""
        return {}


class NotFound(DomainError):
    status_code = 404


class InvalidInput(DomainError):
    """Input that parsed but makes no sense for the domain (unknown zone, bad type...)."""

    status_code = 422


class InvalidQuery(InvalidInput):
    """A query parameter that parsed but makes no sense (a bbox, a cursor, an unknown zone):
    422 located in the query, not the body."""


class TooLarge(DomainError):
    """A body over the size the service takes."""

    status_code = 413


class MethodNotAllowed(DomainError):
    """405: the path exists, but not for this method (a ``HEAD`` of a ``GET`` that changes
    something)."""

    status_code = 405

    def headers(self) -> dict[str, str]:
        return {"Allow": "GET"}


class UnsupportedMedia(DomainError):
    """A body sent in a form the endpoint does not take (multipart where raw bytes go)."""

    status_code = 415


class Conflict(DomainError):
    status_code = 409


class QuotaExceeded(Conflict):
    """409: the caller has the right, but the group's quota has no room left; the same
    request succeeds once the group holds less or an operator raises the quota (a refusal
    for who the caller is would be a 403). The body names the quota."""

    def __init__(self, group: UUID, quota: str, limit: int, used: int, asked: int) -> None:
        super().__init__(
            f"group {group}'s quota of {quota} is {limit}: it holds {used} and this asks "
            f"for {asked} more; free some, or ask an operator for more"
        )
        self.quota: dict[str, object] = {
            "group_id": str(group),
            "name": quota,
            "limit": limit,
            "used": used,
            "asked": asked,
        }

    def details(self) -> dict[str, Any]:
        return {"quota": self.quota}


class Unauthorized(DomainError):
    status_code = 401


class Forbidden(DomainError):
    """The caller is known but lacks the role or right; the message names which."""

    status_code = 403


class PermanentFailure(Exception):
    """A message that can never be handled: the consumer dead-letters it at once."""
