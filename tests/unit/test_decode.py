"""A consumed batch decoded: whole when every message is good, message by message when not,
and every bad message explained beside the good ones it came with."""
from __future__ import annotations

from collections import namedtuple

import orjson
import pytest

from tests.scenario import fix_at
from tracker.consuming import PartitionedLoop
from tracker.settings import Settings

Record = namedtuple("Record", "key value offset")
FIX = fix_at("浙B00001", "C1", 1_764_000_000_000, 0.0)


def decode(*partitions: list[bytes]) -> tuple[list[dict], list[tuple]]:
    member = PartitionedLoop(Settings(), pool=None, topic="fixes", group="g")
    records = {p: [Record(b"k", value, i) for i, value in enumerate(values)] for p, values in enumerate(partitions)}
    return member.decode(records, "normalised_fix.schema.json", "a normalised fix")


def fix(**changes) -> bytes:
    return orjson.dumps(dict(FIX, **changes))


def test_a_good_batch_is_every_fix_in_partition_order():
    items, dead = decode([fix(ts=1), fix(ts=2)], [fix(ts=3)])
    assert [f["ts"] for f in items] == [1, 2, 3] and dead == []


@pytest.mark.parametrize("bad, says", [
    (b"not json", "not a normalised fix: "),  # the batch does not parse
    (fix(lat="29.8"), "lat"),  # it parses; one message breaks the schema
    (orjson.dumps([FIX]), "not a normalised fix: "),  # a list where a fix belongs
])
def test_a_bad_message_is_dead_lettered_and_the_good_ones_around_it_kept(bad, says):
    items, dead = decode([fix(ts=1), bad], [fix(ts=3)])
    assert [f["ts"] for f in items] == [1, 3]
    [(key, value)] = dead
    letter = orjson.loads(value)
    assert key == b"k" and letter["input"] == bad.decode() and says in letter["error"] and letter["source"] == "g"
