"""The registry's own refusals, beyond those every service shares."""

from __future__ import annotations

from guificloud.errors import DomainError


class PreconditionFailed(DomainError):
    """``If-Match`` named another version than the stored one."""

    status_code = 412
