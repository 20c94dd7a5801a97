"""What a fix is once accepted: plate and time normalised, checked against the registry.

Pure functions shared by every intake (HTTP today, the JT/T 808 gateway later), so a fix
means the same thing whichever way it arrived.
"""
from __future__ import annotations

import unicodedata
from collections.abc import Callable
from functools import lru_cache
from datetime import datetime, timedelta, timezone

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
MAX_FUTURE_MS = 5 * 60 * 1000
MAX_AGE_MS = 7 * 24 * 3600 * 1000
OPTIONAL_FIELDS = ("alt_m", "acc", "sats", "hdop", "alarm_flags", "seq")

_PLATE_DROP = dict.fromkeys(map(ord, " \u00b7\u30fb\u2022\u3000\t"), None)


class ItemError(ValueError):
    """One item cannot be accepted; the message is what the sender is told."""


@lru_cache(maxsize=65536)
def normalise_plate(plate: str) -> str:
    """Plates compare after NFC and without spaces or middle dots (CONTRACTS.md).

    Cached: a fleet has a few thousand plates, each repeated in every fix it sends."""
    return unicodedata.normalize("NFC", plate).translate(_PLATE_DROP)


def parse_time_ms(value: str | int, field: str = "ts") -> int:
    """RFC 3339 with an offset, or integer epoch milliseconds, to epoch milliseconds."""
    if isinstance(value, bool):
        raise ItemError(f"{field} must be an RFC 3339 time with an offset or epoch milliseconds")
    if isinstance(value, int):
        return value
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ItemError(f"{field} {value!r} is not an RFC 3339 time") from None
    if parsed.tzinfo is None:
        raise ItemError(f"{field} {value!r} has no UTC offset (add Z or +08:00)")
    return (parsed - EPOCH) // timedelta(milliseconds=1)  # exact: float seconds lose milliseconds


def normalise_fix(
    item: dict,
    *,
    carrier_of: Callable[[str], str | None],
    allowed_carrier: str | None,
    now_ms: int,
    source: str,
) -> dict:
    """The value published to hazmat.fixes.v1, or ItemError saying why the fix is refused.

    `item` has passed the Fix schema; this checks what a schema cannot: the registry, the
    sender's carrier, the (0,0) null island and the accepted time window.
    """
    plate = normalise_plate(item["plate"])
    carrier_id = carrier_of(plate)
    if carrier_id is None:
        raise ItemError(f"unknown plate {plate!r}: register the vehicle first")
    if allowed_carrier is not None and carrier_id != allowed_carrier:
        raise ItemError(f"plate {plate!r} belongs to another carrier")
    lat, lon = item["lat"], item["lon"]
    if lat == 0 and lon == 0:
        raise ItemError("lat/lon (0,0) is not a position: the terminal has no fix")
    ts = parse_time_ms(item["ts"])
    if ts > now_ms + MAX_FUTURE_MS:
        raise ItemError(f"ts is {(ts - now_ms) / 1000:.0f} s in the future (limit 300 s)")
    if ts < now_ms - MAX_AGE_MS:
        raise ItemError("ts is older than 7 days")
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
