"""JT/T 808 positions as Fix items, so they go through the HTTP intake's validation
(`fix.schema.json`, `streams.fix.normalise_fix`) and mean the same thing once accepted.

The JT/T 808 fields the normalised schema keeps beside the Fix's: `status_flags` and
`mileage_km` (item 0x01) are added after normalisation; `alt_m`, `alarm_flags`,
`sats` (item 0x31) and `active_safety` (items 0x64/0x65) are Fix fields already.
"""
from __future__ import annotations

from collections.abc import Callable

from streams.fix import normalise_fix
from tracker.jt808.location import Location

SOURCE = "jt808"


def fix_item(plate: str, loc: Location) -> dict:
    """A Fix as a gateway would have posted it (what a dead letter shows as `input`)."""
    item = {"plate": plate, "ts": loc.ts_ms, "lat": loc.lat, "lon": loc.lon, "speed_kmh": loc.speed_kmh,
            "heading_deg": loc.heading_deg, "alt_m": loc.alt_m, "alarm_flags": loc.alarm_flags}
    if loc.sats is not None:
        item["sats"] = loc.sats
    alarms = loc.safety_alarms
    if alarms:
        item["active_safety"] = [alarm.as_fix_field() for alarm in alarms]
    return item


def items_of(plate: str, locations: list[Location]) -> tuple[list[dict], list[Location]]:
    """Fix items of the positioned reports, and the positioned reports they came from (a
    report whose status says "not positioned" is not a fix: it only says the terminal is on)."""
    kept = [loc for loc in locations if loc.positioned]
    return [fix_item(plate, loc) for loc in kept], kept


def acceptor(items: list[dict], locations: list[Location], carrier_of: Callable[[str], str | None], now_ms: int):
    """The intake's `accept` for `items`, made of `locations` (the intake calls it only
    for the items that passed the schema, so each finds its own report by identity)."""
    extras = {id(item): loc for item, loc in zip(items, locations)}

    def accept(item: dict) -> tuple[str, dict]:
        loc = extras[id(item)]
        fix = normalise_fix(item, carrier_of=carrier_of, allowed_carrier=None, now_ms=now_ms, source=SOURCE)
        fix["status_flags"] = loc.status_flags
        if loc.mileage_km is not None:
            fix["mileage_km"] = loc.mileage_km
        return fix["plate"], fix

    return accept
