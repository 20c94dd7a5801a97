"""What the dead-letter store keeps of each record it finds on the topic."""
from __future__ import annotations

import orjson

from tracker.workers.deadletters import deadletter_row

FIXES = "p.fixes.v1"


def test_a_refused_fix_is_a_fix_of_its_plate():
    value = orjson.dumps({"input": {"plate": "浙B 12345", "lat": 0}, "error": "lat/lon (0,0)", "source": "http/fixes",
                          "received_at": 1_764_547_200_000})
    assert deadletter_row(None, value, FIXES) == (1_764_547_200_000, "浙B12345", "http/fixes", True, "lat/lon (0,0)",
                                                  b'{"plate":"\xe6\xb5\x99B 12345","lat":0}')


def test_a_filling_record_or_a_workers_find_on_another_topic_is_not_a_fix():
    filling = orjson.dumps({"input": {}, "error": "x", "source": "http/filling-records", "received_at": 1})
    assert deadletter_row("浙B12345".encode(), filling, FIXES)[1:4] == ("浙B12345", "http/filling-records", False)
    worker = orjson.dumps({"input": "{", "error": "not a fix", "source": "g", "received_at": 1,
                           "origin": {"topic": FIXES, "partition": 0, "offset": 5}})
    assert deadletter_row(None, worker, FIXES)[3] is True


def test_garbage_on_the_topic_is_kept_as_text_not_dead_lettered_again():
    row = deadletter_row(b"\xff", b"not json\x00", FIXES)
    assert row[1:5] == (None, "unknown", False, "not a dead-letter record")
    assert b"\\u0000" not in row[5] and orjson.loads(row[5]) == "not json"
    assert deadletter_row(None, None, FIXES)[5] == b"null"
