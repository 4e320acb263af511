"""The values of CNML attributes, with the quirks of guifi.net's real exports.

- Dates are ``YYYYMMDD HHMM``, written by PHP's ``date('Ymd hi')``: a 12-hour clock without
  am/pm, so ``0629`` may have been 18:29. We keep the wall time as read (as UTC) and write
  24-hour times, which read back the same.
- A zone ``box`` is ``minlon,minlat,maxlon,maxlat``; the exporter leaves parts empty (and then
  puts a latitude where ``maxlon`` goes), and writes ``179.9,89.9,-179.9,-89.9`` (min above
  max) for a zone without nodes: a box with an empty part, or inverted, is no box.
- Descriptions are element text, HTML as guifi.net stores it; a text that is only ``&nbsp;``
  or blanks is no description.
"""

from __future__ import annotations

import html
import math
import re
from datetime import UTC, datetime

DATE = re.compile(r"^(\d{4})(\d{2})(\d{2}) (\d{2})(\d{2})$")


class ValueProblem(ValueError):
    """An attribute that cannot be read; the parser adds the line."""


def parse_date(raw: str) -> datetime:
    match = DATE.match(raw.strip())
    if match is None:
        raise ValueProblem(f"{raw!r} is not a CNML date (YYYYMMDD HHMM)")
    year, month, day, hour, minute = (int(g) for g in match.groups())
    try:
        return datetime(year, month, day, hour, minute, tzinfo=UTC)
    except ValueError as exc:
        raise ValueProblem(f"{raw!r} is not a CNML date: {exc}") from exc


def format_date(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%d %H%M")


def same_minute(a: datetime | None, b: datetime | None) -> bool:
    """CNML dates have minutes: a stored time within the same minute is the same time."""
    if a is None or b is None:
        return a is b
    return a.replace(second=0, microsecond=0) == b.replace(second=0, microsecond=0)


def parse_box(raw: str | None) -> tuple[float, float, float, float] | None:
    """A whole, ordered box within the globe, or none at all."""
    if raw is None:
        return None
    parts = raw.split(",")
    if len(parts) != 4 or any(not p.strip() for p in parts):
        return None
    try:
        min_lon, min_lat, max_lon, max_lat = (float(p) for p in parts)
    except ValueError:
        return None
    if not all(math.isfinite(v) for v in (min_lon, min_lat, max_lon, max_lat)):
        return None
    if not (-180 <= min_lon <= max_lon <= 180 and -90 <= min_lat <= max_lat <= 90):
        return None
    return min_lon, min_lat, max_lon, max_lat


def format_number(value: float) -> str:
    """Shortest text that reads back to the same float (``43.2`` not ``43.200000``)."""
    return repr(float(value)) if value != int(value) else str(int(value))


INT32 = 2**31 - 1
INT64 = 2**63 - 1


def parse_int(raw: str, what: str, *, minimum: int | None = -INT32, maximum: int = INT32) -> int:
    try:
        value = int(raw.strip())
    except ValueError:
        try:
            as_float = float(raw)
        except ValueError:
            raise ValueProblem(f"{what} {raw!r} is not a number") from None
        if not as_float.is_integer():
            raise ValueProblem(f"{what} {raw!r} is not a whole number") from None
        value = int(as_float)
    if minimum is not None and value < minimum:
        raise ValueProblem(f"{what} {raw!r} must be at least {minimum}")
    if value > maximum:
        raise ValueProblem(f"{what} {raw!r} must be at most {maximum}")
    return value


def parse_id(raw: str | None, what: str) -> int:
    if raw is None or not raw.strip():
        raise ValueProblem(f"{what} has no id")
    return parse_int(raw, f"{what} id", minimum=1, maximum=INT64)


def parse_reference(raw: str | None) -> int | None:
    """A reference to another guifi.net record (graph server...); 0, -1 or empty is none."""
    if raw is None or not raw.strip():
        return None
    try:
        value = int(raw.strip())
    except ValueError:
        return None
    return value if 0 < value <= INT64 else None


def parse_coordinate(raw: str | None, what: str, limit: float) -> float:
    if raw is None:
        raise ValueProblem(f"{what} is missing")
    try:
        value = float(raw)
    except ValueError:
        raise ValueProblem(f"{what} {raw!r} is not a number") from None
    if not math.isfinite(value) or not -limit <= value <= limit:
        raise ValueProblem(f"{what} {raw!r} is outside ±{limit:g}")
    return round(value, 6)


def parse_servers(raw: str | None) -> list[str] | None:
    if raw is None:
        return None
    servers = [s.strip() for s in re.split(r"[,\s]+", raw) if s.strip()]
    if any(len(s) > 64 for s in servers):
        raise ValueProblem(f"a server in {raw[:80]!r} is longer than 64 characters")
    return servers or None


def parse_flag(raw: str | None) -> bool | None:
    if raw is None or not raw.strip():
        return None
    return raw.strip().lower() in {"yes", "y", "1", "true"}


def description(text: str) -> str | None:
    """Element text as a description: stripped, and none when it says nothing."""
    stripped = text.strip()
    if not html.unescape(stripped).strip():
        return None
    return stripped


def text_or_none(raw: str | None, what: str, max_length: int) -> str | None:
    if raw is None or not raw.strip():
        return None
    value = raw.strip()
    if len(value) > max_length:
        raise ValueProblem(f"{what} is longer than {max_length} characters")
    return value
