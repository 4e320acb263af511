"""The registry's own refusals, beyond those every service shares."""

from __future__ import annotations

from guificloud.errors import DomainError, InvalidInput


class InvalidQuery(InvalidInput):
    """A query parameter that parsed but makes no sense (bbox, cursor, unknown zone): 422
    located in the query, not the body."""


class PreconditionFailed(DomainError):
    """``If-Match`` named another version than the stored one."""

    status_code = 412
