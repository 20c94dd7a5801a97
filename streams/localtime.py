"""Local time for the rules: Asia/Shanghai, UTC+8 all year (China has no DST since 1991).

A fixed offset, not zoneinfo: the rules run per fix, and a constant is exact here.
"""
from __future__ import annotations

from geofence.model import BanWindow

OFFSET_MS = 8 * 3600 * 1000
DAY_MS = 24 * 3600 * 1000
MINUTE_MS = 60 * 1000


def local_minute(ts_ms: int) -> int:
    """Minutes after local midnight."""
    return (ts_ms + OFFSET_MS) % DAY_MS // MINUTE_MS


def local_weekday(ts_ms: int) -> int:
    """ISO weekday, 1 = Monday (1970-01-01 was a Thursday)."""
    return ((ts_ms + OFFSET_MS) // DAY_MS + 3) % 7 + 1


def local_midnight(ts_ms: int) -> int:
    """The epoch ms of the local midnight that starts ts's local day."""
    return ts_ms - (ts_ms + OFFSET_MS) % DAY_MS


def in_minutes(ts_ms: int, start_min: int, end_min: int) -> bool:
    """Is local time within [start, end)? A window with end < start crosses midnight.
    (local_minute's arithmetic inline: two rules ask this for every fix.)"""
    m = (ts_ms + OFFSET_MS) % DAY_MS // MINUTE_MS
    return start_min <= m < end_min if start_min < end_min else (m >= start_min or m < end_min)


def in_ban_window(ts_ms: int, window: BanWindow) -> bool:
    """A window belongs to the day it starts on: Friday 22:00-06:00 bans Saturday 03:00 too."""
    m, day = local_minute(ts_ms), local_weekday(ts_ms)
    if window.start_min < window.end_min:
        return day in window.days and window.start_min <= m < window.end_min
    if m >= window.start_min:
        return day in window.days
    previous = 7 if day == 1 else day - 1
    return m < window.end_min and previous in window.days


def banned(ts_ms: int, windows: tuple[BanWindow, ...] | None) -> bool:
    return windows is None or any(in_ban_window(ts_ms, w) for w in windows)
