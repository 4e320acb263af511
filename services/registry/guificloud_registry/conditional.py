"""ETags and conditional requests: a record's ETag is its change counter, so that a member
correcting a node does not overwrite a correction made meanwhile (``If-Match`` → 412)."""

from __future__ import annotations

from guificloud_registry.errors import PreconditionFailed


def etag(version: int) -> str:
    return f'"{version}"'


def check_if_match(if_match: str | None, version: int) -> None:
    """Refuse the change when ``If-Match`` names another version than the stored one."""
    if if_match is None:
        return
    tags = {t.strip().removeprefix("W/") for t in if_match.split(",")}
    if "*" not in tags and etag(version) not in tags:
        raise PreconditionFailed(
            f"If-Match: the record changed meanwhile (now {etag(version)}); fetch it again"
        )


def not_modified(if_none_match: str | None, version: int) -> bool:
    if if_none_match is None:
        return False
    tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return "*" in tags or etag(version) in tags
