"""The identity service's own refusals, beyond those every service shares."""

from __future__ import annotations

from guificloud.errors import DomainError


class TooManyRequests(DomainError):
    """Slowed down after failed logins; ``retry_after_s`` says when to try again."""

    status_code = 429

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
