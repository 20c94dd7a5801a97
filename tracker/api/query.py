"""Query-string parameters shared by the read endpoints, each refused with a 400 naming it."""
from __future__ import annotations

import base64
from datetime import datetime

import orjson

from streams.fix import ItemError, valid_plate
from streams.times import TimeError, bounded, epoch_ms, parse_query_time, utc
from tracker.api.problems import Problem, error

CRS = ("wgs84", "gcj02")


def parse_bbox(raw: str | None) -> tuple[float, float, float, float] | None:
    """`minLon,minLat,maxLon,maxLat` in WGS-84, or a 400 saying what is wrong."""
    if raw is None:
        return None
    try:
        values = tuple(float(v) for v in raw.split(","))
    except ValueError:
        values = ()
    if (len(values) != 4 or not (values[0] <= values[2] and values[1] <= values[3])
            or not all(-180 <= v <= 180 for v in values[::2]) or not all(-90 <= v <= 90 for v in values[1::2])):
        raise Problem(400, "bbox is minLon,minLat,maxLon,maxLat in degrees",
                      [error("4 numbers in range, min before max", field="bbox")])
    return values


def query_choice(query, name: str, choices) -> str | None:
    """An optional parameter that names one of `choices`, or a 400 listing them."""
    value = query.get(name)
    if value is not None and value not in choices:
        raise Problem(400, f"{name} must be one of {', '.join(choices)}", [error(f"unknown {name} {value!r}", field=name)])
    return value


def parse_crs(raw: str | None) -> str:
    crs = (raw or "wgs84").lower()
    if crs not in CRS:
        raise Problem(400, f"crs must be one of {', '.join(CRS)}", [error(f"unknown crs {raw!r}", field="crs")])
    return crs


def map_view(query) -> tuple[list[float] | None, str]:
    """A map endpoint's `bbox` (as the SQL float8[] parameter, None for all) and `crs`."""
    bbox = parse_bbox(query.get("bbox"))
    return (list(bbox) if bbox else None), parse_crs(query.get("crs"))


def query_time(query, name: str):
    """An optional time parameter as an aware datetime (RFC 3339 or epoch ms, 2000..2100)."""
    raw = query.get(name)
    if raw is None:
        return None
    try:
        return utc(parse_query_time(raw, name))
    except TimeError as exc:
        raise Problem(400, str(exc), [error(str(exc), field=name)]) from None


def query_plate(raw: str | None, name: str = "plate") -> str | None:
    """An optional plate parameter, normalised; a 400 when it cannot be a plate."""
    if raw is None:
        return None
    try:
        return valid_plate(raw)
    except ItemError as exc:
        raise Problem(400, str(exc), [error(str(exc), field=name)]) from None


def query_limit(query, default: int = 100, most: int = 1000) -> int:
    raw = query.get("limit", str(default))
    limit = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 6 else 0
    if not 1 <= limit <= most:
        raise Problem(400, f"limit is 1..{most}", [error(f"1..{most}", field="limit")])
    return limit


def query_cursor(query) -> tuple[datetime, str] | None:
    """The (time, id) a keyset page ended at, as `next_cursor` gave it; anything else a 400."""
    raw = query.get("cursor")
    if raw is None:
        return None
    try:
        at_ms, key = orjson.loads(base64.urlsafe_b64decode(raw.encode()))
        if type(at_ms) is not int or type(key) is not str or not 0 < len(key) <= 128:
            raise ValueError("not a cursor")
        return utc(bounded(at_ms)), key
    except (ValueError, TypeError):  # base64's, orjson's, the unpacking's, bounded's (a ValueError)
        raise Problem(400, "cursor is not one this API gave", [error("unknown cursor", field="cursor")]) from None


def next_cursor(at: datetime, key: str) -> str:
    """The `next` of a page whose last item is (at, key), newest first."""
    return base64.urlsafe_b64encode(orjson.dumps([epoch_ms(at), key])).decode()
