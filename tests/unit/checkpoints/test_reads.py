"""Plate reads as the intake accepts them, and their verdicts, each threshold on both sides."""
from __future__ import annotations

import pytest

from checkpoints.checks import (
    MATCHED,
    MISSING,
    PENDING,
    Checkpoint,
    ReadConfig,
    clone_conflict,
    cloned,
    gps_missing,
    gps_verdict,
    unregistered,
)
from checkpoints.reads import image_url, normalise_read
from streams.fix import ItemError
from streams.rules.violations import cloud_event
from streams.times import now_ms
from tests.contracts import validate

M_LAT, M_LON = 1 / 110_574, 1 / 96_400
GATE = Checkpoint("K1", "北门", 29.90, 121.80)
CFG = ReadConfig()
OWN = frozenset({"hazmat.example.cn"})


def read(ts: int, rid: str = "R1", plate: str = "浙B12345", confidence: float = 0.95, **extra) -> dict:
    return {"id": rid, "checkpoint_id": "K1", "plate": plate, "ts": ts, "confidence": confidence, **extra}


def accept(item: dict, token_checkpoint: str | None = None) -> dict:
    return normalise_read(item, checkpoint_of_token=token_checkpoint, known_checkpoint={"K1", "K2"}.__contains__,
                          own_hosts=OWN, now_ms=now_ms())


def test_a_read_is_normalised_like_a_fix():
    now = now_ms()
    out = accept(read(now - 1000, plate="浙 b·12345", image_url="https://cams.example.cn/a.jpg"))
    assert out["plate"] == "浙B12345" and out["ts"] == now - 1000 and out["received_at"] >= now


@pytest.mark.parametrize("item, token, reason", [
    (read(0, plate="XYZ"), None, "not a vehicle plate"),
    (dict(read(0), checkpoint_id="K2"), "K1", "another checkpoint's"),
    (dict(read(0), checkpoint_id="K9"), None, "unknown checkpoint"),
    (read(-8 * 86_400_000), None, "older than 7 days"),
])
def test_refusals_say_why(item, token, reason):
    item["ts"] += now_ms()  # (times built when the test runs)
    with pytest.raises(ItemError, match=reason):
        accept(item, token)


@pytest.mark.parametrize("url, reason", [
    ("http://cams.example.cn/a.jpg", "https"), ("ftp://x/y", "https"), ("https:///nohost", "https"),
    ("https://127.0.0.1/a.jpg", "local"), ("https://[::1]/a", "local"), ("https://10.1.2.3/a", "local"),
    ("https://localhost/a", "local"), ("https://api.localhost/a", "local"),
    ("https://HAZMAT.example.cn./a", "this server"), ("https://u:p@cams.example.cn/a", "credentials"),
    ("https://cams.example.cn:99999/a", "not a URL"), ("https://cams.example.cn/" + "a" * 480, "limit is 500"),
])
def test_picture_addresses_that_are_refused(url, reason):
    with pytest.raises(ItemError, match=reason):
        image_url(url, OWN)


def test_gps_verdict_within_1_km_and_only_once_the_window_is_covered():
    t = now_ms()
    near = [(t + 60_000, GATE.lat + 990 * M_LAT, GATE.lon)]
    far = [(t + 60_000, GATE.lat + 1010 * M_LAT, GATE.lon)]
    assert gps_verdict(GATE, near, False, CFG) == MATCHED
    assert gps_verdict(GATE, far, False, CFG) == PENDING
    assert gps_verdict(GATE, far, True, CFG) == MISSING


def test_gps_missing_is_high_with_a_waybill_and_names_the_last_fix():
    t = now_ms()
    last = (t - 30 * 60_000, GATE.lat + 3000 * M_LAT, GATE.lon)
    v = gps_missing(read(t), GATE, "C1", "W1", last)
    assert (v.kind, v.severity, v.status, v.agencies) == ("gps_missing", "high", "closed",
                                                                      ["police", "transport", "emergency"])
    assert v.details["checkpoint_id"] == "K1" and 2980 < v.details["last_fix_distance_m"] < 3020
    assert gps_missing(read(t), GATE, "C1", None, None).severity == "medium"
    assert gps_missing(read(t), GATE, "C1", None, None).details["last_fix_at"] is None
    assert gps_missing(read(t), GATE, "C1", None, None).violation_id == v.violation_id  # the read's
    validate("violation_event.schema.json", cloud_event("hazmat.violation.closed", v))


def test_unregistered_is_one_a_plate_a_local_day():
    t = now_ms()
    a, b = unregistered(read(t), GATE), unregistered(read(t + 60_000, "R2"), GATE)
    assert a.violation_id == b.violation_id and a.agencies == ["police", "transport"]
    assert unregistered(read(t + 86_400_000), GATE).violation_id != a.violation_id


def test_cloned_needs_5_km_and_more_than_150_kmh():
    t = now_ms()
    at_km = lambda km, minutes, what="read K2/R9": (t + minutes * 60_000, GATE.lat, GATE.lon + km * 1000 * M_LON, what)  # noqa: E731
    assert clone_conflict(read(t), GATE, [at_km(4.9, 1)], CFG) is None
    assert clone_conflict(read(t), GATE, [at_km(40, 17)], CFG) is None  # 141 km/h
    found = clone_conflict(read(t), GATE, [at_km(40, 17), at_km(40, 10)], CFG)
    assert found is not None and round(found[2]) == 240
    v = cloned(read(t), GATE, "C1", found)
    assert v.severity == "high" and v.agencies == ["police", "emergency"]
    other_first = cloned({**read(t + 600_000, "R9"), "checkpoint_id": "K2"}, GATE, "C1",
                         ((t, 0.0, 0.0, "read K1/R1"), 40_000.0, 240.0))
    assert other_first.violation_id == v.violation_id  # one a pair, whichever came first
