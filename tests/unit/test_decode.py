"""A consumed batch decoded: whole when every message is good, message by message when not,
and every bad message explained beside the good ones it came with."""
from __future__ import annotations

import json
from collections import namedtuple

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st
import pytest

from tests.scenario import fix_at
from tracker.workers.loop import decode as decode_batch

Record = namedtuple("Record", "key value offset")
T = 1_764_000_000_000
FIX = fix_at("浙B00001", "C1", T, 0.0)


def decode(*partitions: list[bytes]) -> tuple[list[dict], list[tuple]]:
    records = {p: [Record(b"k", value, i) for i, value in enumerate(values)] for p, values in enumerate(partitions)}
    return decode_batch(records, "normalised_fix.schema.json", "a normalised fix", "g", "fixes")


def fix(**changes) -> bytes:
    return orjson.dumps(dict(FIX, **changes))


def test_a_good_batch_is_every_fix_in_partition_order():
    items, dead = decode([fix(ts=T + 1), fix(ts=T + 2)], [fix(ts=T + 3)])
    assert [f["ts"] - T for f in items] == [1, 2, 3] and dead == []


@pytest.mark.parametrize("bad, says", [
    (b"not json", "not a normalised fix: "),  # the batch does not parse
    (fix(lat="29.8"), "lat"),  # it parses; one message breaks the schema
    (orjson.dumps([FIX]), "not a normalised fix: "),  # a list where a fix belongs
    (fix(plate="<img src=x>"), "plate"),  # not a plate
    (fix(ts=10**15), "ts"),  # year 33658
    (fix(carrier_id="C\u0000"), "carrier_id"),  # PostgreSQL text cannot hold NUL
])
def test_a_bad_message_is_dead_lettered_and_the_good_ones_around_it_kept(bad, says):
    items, dead = decode([fix(ts=T + 1), bad], [fix(ts=T + 3)])
    assert [f["ts"] - T for f in items] == [1, 3]
    [(key, value)] = dead
    letter = orjson.loads(value)
    assert key == b"k" and letter["input"] == bad.decode() and says in letter["error"] and letter["source"] == "g"


# -- any message: a worker never fails on what a foreign producer can put on the topic ---

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12)
field_values = st.sampled_from(list(FIX)).flatmap(lambda field: st.tuples(st.just(field), json_values))


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(st.binary(max_size=64).map(lambda b: ("raw", b)),
                          json_values.map(lambda v: ("json", v)),
                          st.lists(field_values, max_size=3).map(lambda changes: ("fix", dict(changes)))),
                max_size=12))
def test_any_message_is_either_a_fix_or_dead_lettered_never_an_exception(messages):
    raw = []
    for how, value in messages:
        if how == "raw":
            raw.append(value)
        elif how == "json":
            raw.append(json.dumps(value).encode())  # the standard library: integers of any size
        else:
            raw.append(json.dumps(dict(FIX, **value)).encode())
    items, dead = decode(raw)
    assert len(items) + len(dead) == len(raw)


lats, lons = st.floats(-90, 90), st.floats(-180, 180)
schema_fixes = st.fixed_dictionaries({
    "plate": st.sampled_from(["浙B00001", "浙B00002"]), "carrier_id": st.just("C1"), "source": st.just("http"),
    "ts": st.integers(946684800000, 4102444799999), "received_at": st.integers(946684800000, 4102444799999),
    "lat": lats, "lon": lons, "speed_kmh": st.floats(0, 250), "heading_deg": st.floats(0, 359.999)})


@settings(max_examples=300, deadline=None)
@given(st.lists(schema_fixes, max_size=30), st.integers(0, 2))
def test_every_fix_the_schema_accepts_goes_through_the_rules(fixes, near_pole):
    """Extreme but valid values (the poles, the antimeridian, the year 2099, 250 km/h)
    through decode, geofencing and every rule; a foreign producer can send them all."""
    from geofence.index import GeofenceIndex
    from streams.batch import process, tick_all
    from streams.rules.config import RuleConfig
    from streams.rules.engine import Context
    from tests.unit.rules.harness import square, waybill
    if near_pole:
        fixes = [dict(f, lat=90.0 - f["lat"] % 0.001 if near_pole == 1 else f["lat"], lon=180.0 if near_pole == 2 else f["lon"])
                 for f in fixes]
    items, dead = decode([orjson.dumps(f) for f in fixes])
    assert not dead, dead
    index = GeofenceIndex()
    for g in (square("lot", "parking", -50, -50, 50, 50), square("ns", "no_stopping", 100, 100, 200, 200)):
        index.put(g)
    trip = waybill(946684800000, 4102444799999)
    ctx = Context(index, lambda plate, ts: trip, RuleConfig())
    states: dict = {}
    process(items, states, ctx)
    tick_all(states, lambda plate: 4102444799999, ctx)
