"""What a fix is once accepted: plate and time normalised, checked against the registry.

Pure functions shared by every intake (HTTP and the JT/T 808 gateway), so a fix means the
same thing whichever way it arrived.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache

from streams.times import TimeError, parse_time_ms

MAX_FUTURE_MS = 5 * 60 * 1000
MAX_AGE_MS = 7 * 24 * 3600 * 1000
OPTIONAL_FIELDS = ("alt_m", "acc", "sats", "hdop", "alarm_flags", "seq", "active_safety")
# Longer than any plate however spelt (spaces, dots, full-width letters): anything longer
# is refused before it is normalised or cached.
MAX_PLATE_INPUT = 32

_PLATE_DROP = dict.fromkeys(map(ord, " \u00b7\u30fb\u2022\u3000\t"), None)
# A mainland plate as issued (GA 36): the province's character, the issuing office's
# letter, 5 (6 for new-energy vehicles) letters and digits, or 4 and a trailing character
# (挂 for a trailer, which many tankers are).
PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
PLATE = re.compile(f"[{PROVINCES}][A-Z](?:[A-Z0-9]{{5,6}}|[A-Z0-9]{{4}}[挂学警港澳领试超])")


class ItemError(ValueError):
    """One item cannot be accepted; the message is what the sender is told."""


def normalise_plate(plate: str) -> str:
    """Plates compare after NFKC (full-width letters become ASCII), without spaces, middle
    dots or invisible format characters, in upper case (docs/README.md "Plates")."""
    if len(plate) > MAX_PLATE_INPUT:
        raise ItemError(f"plate is longer than {MAX_PLATE_INPUT} characters")
    return _normalised(plate)


@lru_cache(maxsize=65536)
def _normalised(plate: str) -> str:
    """Cached: a fleet has a few thousand plates, each repeated in every fix it sends
    (only bounded input reaches the cache)."""
    text = unicodedata.normalize("NFKC", plate).translate(_PLATE_DROP)
    return "".join(c for c in text if unicodedata.category(c) != "Cf").upper()


def valid_plate(plate: str) -> str:
    """The normalised plate, or ItemError when it is not one a vehicle can carry."""
    normalised = normalise_plate(plate)
    if not PLATE.fullmatch(normalised):
        raise ItemError(f"plate {normalised[:16]!r} is not a vehicle plate (e.g. 浙B12345 or 浙B1234挂)")
    return normalised


def time_of(value: object, field: str) -> int:
    """An input time as epoch ms, or ItemError."""
    try:
        return parse_time_ms(value, field)
    except TimeError as exc:
        raise ItemError(str(exc)) from None


def within_window(ts: int, now_ms: int, field: str = "ts") -> int:
    """A time the rules can still use: at most 5 min ahead, at most 7 days old."""
    if ts > now_ms + MAX_FUTURE_MS:
        raise ItemError(f"{field} is {(ts - now_ms) / 1000:.0f} s in the future (limit 300 s)")
    if ts < now_ms - MAX_AGE_MS:
        raise ItemError(f"{field} is older than 7 days")
    return ts


def normalise_fix(
    item: dict,
    *,
    carrier_of: Callable[[str], str | None],
    allowed_carrier: str | None,
    now_ms: int,
    source: str,
) -> dict:
    """The value published to hazmat.fixes.v1, or ItemError saying why the fix is refused.

    `item` has passed the Fix schema; this checks what a schema cannot: the plate's form,
    the registry, the sender's carrier, the (0,0) null island and the accepted time window.
    """
    plate = valid_plate(item["plate"])
    carrier_id = carrier_of(plate)
    if carrier_id is None:
        raise ItemError(f"unknown plate {plate!r}: register the vehicle first")
    if allowed_carrier is not None and carrier_id != allowed_carrier:
        raise ItemError(f"plate {plate!r} belongs to another carrier")
    lat, lon = item["lat"], item["lon"]
    if lat == 0 and lon == 0:
        raise ItemError("lat/lon (0,0) is not a position: the terminal has no fix")
    ts = within_window(time_of(item["ts"], "ts"), now_ms)
    fix = {
        "plate": plate,
        "ts": ts,
        "lat": lat,
        "lon": lon,
        "speed_kmh": item["speed_kmh"],
        "heading_deg": item["heading_deg"],
    }
    for name in OPTIONAL_FIELDS:
        if name in item:
            fix[name] = item[name]
    fix["carrier_id"] = carrier_id
    fix["received_at"] = now_ms
    fix["source"] = source
    return fix
