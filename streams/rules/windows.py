"""Ban windows of restricted roads in the district's local time."""
from __future__ import annotations

from geofence.model import BanWindow
from streams.times import local_minute, local_weekday


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


def window_in_force(ts_ms: int, windows: tuple[BanWindow, ...] | None) -> dict | None:
    """The ban window in force at ts as a violation's details say it (None: always banned)."""
    if windows is None:
        return None
    for w in windows:
        if in_ban_window(ts_ms, w):
            return {"days": list(w.days), "from": f"{w.start_min // 60:02d}:{w.start_min % 60:02d}",
                    "to": f"{w.end_min // 60:02d}:{w.end_min % 60:02d}"}
    return None
