"""JT/T 809 positions as Fix items, so they pass the same validation as every other
intake (`fix.schema.json`, `streams.fix.normalise_fix` with source "jt809") and mean
the same thing once accepted.

A position whose ENCRYPT flag says its coordinates went through the national map
offset (GCJ-02) is moved back to WGS-84 here: everything is stored in WGS-84, and a
fix 300-500 m off would put a tanker on the wrong side of a geofence. `status_flags`
and `mileage_km` are not Fix fields; like the JT/T 808 gateway, the caller adds
``extras(position)`` after normalisation.
"""
from __future__ import annotations

from geofence.gcj02 import gcj02_to_wgs84
from tracker.jt809.positions import Position

SOURCE = "jt809"
_SATELLITES = 0x31  # JT/T 808 additional item, in 2019 positions


def fix_item(position: Position) -> dict:
    """A Fix as a sub-platform would have posted it (what a dead letter shows as `input`)."""
    lon, lat = position.lon, position.lat
    if position.gcj02:
        wgs_lon, wgs_lat = gcj02_to_wgs84(lon, lat)
        lon, lat = round(float(wgs_lon), 7), round(float(wgs_lat), 7)
    item = {"plate": position.plate, "ts": position.ts_ms, "lat": lat, "lon": lon, "speed_kmh": position.speed_kmh,
            "heading_deg": position.heading_deg, "alt_m": position.alt_m, "alarm_flags": position.alarm_flags}
    sats = position.items.get(_SATELLITES)
    if sats:
        item["sats"] = sats[0]
    return item


def extras(position: Position) -> dict:
    """The JT/T 809 fields the normalised fix keeps beside the Fix's."""
    out: dict = {"status_flags": position.status_flags}
    if position.mileage_km is not None:
        out["mileage_km"] = position.mileage_km
    return out
