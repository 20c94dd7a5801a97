"""Time, in one place: epoch milliseconds inside, RFC 3339 at the edges, and the local
time of the district for the rules.

Everything inside the system counts epoch milliseconds (ints: exact, cheap to compare
and to store). What comes in is parsed here and bounded to the years the domain can
mean ([MIN_MS, MAX_MS)), so that nothing downstream meets a year 33658 or a 5 000-digit
number. Local time is Asia/Shanghai: UTC+8 all year (China has no DST since 1991), a
fixed offset rather than zoneinfo because the rules ask it for every fix.
"""
from __future__ import annotations

import re
import time
from datetime import date, datetime, timedelta, timezone

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
LOCAL = timezone(timedelta(hours=8))
OFFSET_MS = 8 * 3600 * 1000
DAY_MS = 24 * 3600 * 1000
MINUTE_MS = 60 * 1000
# The times any input may name: 2000-01-01 to 2100-01-01 UTC. Narrower windows (a fix
# at most 7 days old) are the callers'; this one keeps every conversion in range.
MIN_MS = 946_684_800_000
MAX_MS = 4_102_444_800_000

_RFC3339 = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,9}))?"
    r"(?:([Zz])|([+-])([0-9]{2}):([0-9]{2}))")
_EPOCH_DIGITS = re.compile(r"[0-9]{1,15}")


def now_ms() -> int:
    """The wall clock as epoch milliseconds: receipt times, the intake's age bounds, and the
    timers of a partition that is quiet. The one place the system reads it."""
    return time.time_ns() // 1_000_000


class TimeError(ValueError):
    """A time that is not one the system accepts; the message says why."""


def utc(ms: int) -> datetime:
    """The aware UTC datetime of epoch milliseconds (exact: no float seconds)."""
    return EPOCH + timedelta(milliseconds=ms)


def epoch_ms(value: datetime) -> int:
    return (value - EPOCH) // timedelta(milliseconds=1)  # exact; float seconds lose milliseconds


def rfc3339(ms: int | None) -> str | None:
    """Output form: RFC 3339 in UTC with milliseconds and a Z."""
    if ms is None:
        return None
    return utc(ms).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def bounded(ms: int, field: str = "time") -> int:
    if not MIN_MS <= ms < MAX_MS:
        raise TimeError(f"{field} is outside 2000-01-01..2100-01-01")
    return ms


def parse_rfc3339(text: str, field: str = "time") -> int:
    """Strict RFC 3339 (a T, seconds, an offset or Z; no week dates, no spaces) to epoch ms."""
    m = _RFC3339.fullmatch(text) if len(text) <= 40 else None
    if m is None:
        raise TimeError(f"{field} is not an RFC 3339 time with an offset (e.g. 2026-12-01T08:30:00+08:00)")
    year, month, day, hour, minute, second, fraction, zulu, sign, off_h, off_m = m.groups()
    try:
        local = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second))
    except ValueError as exc:
        raise TimeError(f"{field}: {exc}") from None
    if off_h is not None and (int(off_h) > 23 or int(off_m) > 59):
        raise TimeError(f"{field} has an impossible UTC offset")
    offset = 0 if zulu else (int(off_h) * 60 + int(off_m)) * (1 if sign == "+" else -1)
    ms = (local - datetime(1970, 1, 1)) // timedelta(milliseconds=1) - offset * MINUTE_MS
    if fraction:
        ms += int(fraction[:3].ljust(3, "0"))
    return bounded(ms, field)


def parse_time_ms(value: object, field: str = "time") -> int:
    """An input time, RFC 3339 with an offset or integer epoch milliseconds, to epoch ms
    within [MIN_MS, MAX_MS)."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise TimeError(f"{field} must be an RFC 3339 time with an offset or integer epoch milliseconds")
    if isinstance(value, int):
        return bounded(value, field)
    return parse_rfc3339(value, field)


def parse_query_time(text: str, field: str) -> int:
    """A time in a query string: RFC 3339, or epoch milliseconds as ASCII digits."""
    if _EPOCH_DIGITS.fullmatch(text):
        return bounded(int(text), field)
    return parse_rfc3339(text, field)


def local_minute(ts_ms: int) -> int:
    """Minutes after local midnight."""
    return (ts_ms + OFFSET_MS) % DAY_MS // MINUTE_MS


def local_weekday(ts_ms: int) -> int:
    """ISO weekday, 1 = Monday (1970-01-01 was a Thursday)."""
    return ((ts_ms + OFFSET_MS) // DAY_MS + 3) % 7 + 1


def local_midnight(ts_ms: int) -> int:
    """The epoch ms of the local midnight that starts ts's local day."""
    return ts_ms - (ts_ms + OFFSET_MS) % DAY_MS


def local_day(ts_ms: int) -> date:
    return utc(ts_ms).astimezone(LOCAL).date()


def in_minutes(ts_ms: int, start_min: int, end_min: int) -> bool:
    """Is local time within [start, end)? A window with end < start crosses midnight.
    (local_minute's arithmetic inline: two rules ask this for every fix.)"""
    m = (ts_ms + OFFSET_MS) % DAY_MS // MINUTE_MS
    return start_min <= m < end_min if start_min < end_min else (m >= start_min or m < end_min)
