"""A consumed batch decoded: whole when every message is good, message by message when not,
and every bad message explained beside the good ones it came with."""
from __future__ import annotations

from collections import namedtuple

import orjson
import pytest

from tests.scenario import fix_at
from tracker.workers.loop import PartitionedLoop
from tracker.settings import Settings

Record = namedtuple("Record", "key value offset")
T = 1_764_000_000_000
FIX = fix_at("浙B00001", "C1", T, 0.0)


def decode(*partitions: list[bytes]) -> tuple[list[dict], list[tuple]]:
    member = PartitionedLoop(Settings(), pool=None, topic="fixes", group="g", publisher=None)
    records = {p: [Record(b"k", value, i) for i, value in enumerate(values)] for p, values in enumerate(partitions)}
    return member.decode(records, "normalised_fix.schema.json", "a normalised fix")


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
