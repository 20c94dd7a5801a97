"""The pure fix normalisation shared by every intake."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streams.fix import MAX_AGE_MS, MAX_FUTURE_MS, ItemError, normalise_fix, normalise_plate, parse_time_ms

NOW = 1_795_800_000_000


def fix(**over) -> dict:
    item = {"plate": "浙B12345", "ts": NOW, "lat": 29.9, "lon": 121.8, "speed_kmh": 10, "heading_deg": 5}
    item.update(over)
    return item


def normalise(item, allowed="C1"):
    return normalise_fix(item, carrier_of={"浙B12345": "C1", "浙B99999": "C2"}.get, allowed_carrier=allowed,
                         now_ms=NOW, source="http")


@pytest.mark.parametrize("raw", ["浙B12345", "浙B 12345", "浙B·12345", " 浙 B・12345 ", "浙B\u300012345"])
def test_plate_spellings_compare_equal(raw):
    assert normalise_plate(raw) == "浙B12345"


def test_plate_is_nfc_normalised():
    decomposed = "Ae\u0301"  # e + combining acute
    assert normalise_plate(decomposed) == "A\u00e9"


@pytest.mark.parametrize("raw, ms", [
    ("2026-11-28T08:00:00+08:00", 1795824000000),
    ("2026-11-28T00:00:00Z", 1795824000000),
    ("2026-11-28T00:00:00.250Z", 1795824000250),
    (1795824000000, 1795824000000),
])
def test_times(raw, ms):
    assert parse_time_ms(raw) == ms


@pytest.mark.parametrize("raw, words", [("2026-11-28T08:00:00", "offset"), ("noon", "RFC 3339"), (True, "epoch")])
def test_bad_times(raw, words):
    with pytest.raises(ItemError, match=words):
        parse_time_ms(raw)


def test_accepted_fix_carries_carrier_source_and_receipt_time():
    out = normalise(fix(plate="浙B 12345", alt_m=3.5, seq=7))
    assert out == {"plate": "浙B12345", "ts": NOW, "lat": 29.9, "lon": 121.8, "speed_kmh": 10, "heading_deg": 5,
                   "alt_m": 3.5, "seq": 7, "carrier_id": "C1", "received_at": NOW, "source": "http"}


@pytest.mark.parametrize("over, words", [
    ({"plate": "浙X00000"}, "unknown plate"),
    ({"plate": "浙B99999"}, "another carrier"),
    ({"lat": 0, "lon": 0}, "(0,0)"),
    ({"ts": NOW + MAX_FUTURE_MS + 1}, "future"),
    ({"ts": NOW - MAX_AGE_MS - 1}, "older than 7 days"),
])
def test_refusals(over, words):
    with pytest.raises(ItemError, match=words):
        normalise(fix(**over))


@pytest.mark.parametrize("ts", [NOW + MAX_FUTURE_MS, NOW - MAX_AGE_MS])
def test_window_edges_are_accepted(ts):
    assert normalise(fix(ts=ts))["ts"] == ts


def test_admin_like_sender_without_carrier_may_send_any_plate():
    assert normalise(fix(plate="浙B99999"), allowed=None)["carrier_id"] == "C2"


@given(st.integers(min_value=0, max_value=2**41))
def test_epoch_ms_round_trips_through_rfc3339(ms):
    from datetime import datetime, timezone

    text = datetime.fromtimestamp(ms / 1000, timezone.utc).isoformat(timespec="milliseconds")
    assert parse_time_ms(text) == ms
