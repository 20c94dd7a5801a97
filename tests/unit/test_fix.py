"""The pure fix normalisation shared by every intake."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streams.fix import MAX_AGE_MS, MAX_FUTURE_MS, ItemError, normalise_fix, normalise_plate, valid_plate
from streams.times import LOCAL, MAX_MS, MIN_MS, TimeError, now_ms, parse_query_time, parse_time_ms, rfc3339

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


@pytest.mark.parametrize("raw", ["浙Ｂ１２３４５", "浙b12345", "浙B\u200b12345", "\ufeff浙B12345", "浙B12345\u2060"])
def test_full_width_lower_case_and_invisible_characters_make_no_new_plate(raw):
    assert valid_plate(raw) == "浙B12345"


@pytest.mark.parametrize("raw", [" ", "\u200b", "<img src=x onerror=alert(1)>", "浙B1234", "浙B1234567",
                                 "AB12345", "浙B12345'", "浙B12\n345", "x" * 33, "x" * 1_000_000])
def test_what_is_not_a_plate_is_refused(raw):
    with pytest.raises(ItemError):
        valid_plate(raw)


@pytest.mark.parametrize("raw", ["浙B1234挂", "浙BD12345", "粤A12345"])
def test_trailers_and_new_energy_plates_are_plates(raw):
    assert valid_plate(raw) == raw


def test_an_overlong_plate_is_refused_before_it_is_cached():
    from streams.fix import _normalised

    before = _normalised.cache_info().currsize
    with pytest.raises(ItemError):
        normalise_plate("浙" * 100_000)
    assert _normalised.cache_info().currsize == before


# An instant of today, whole seconds, in the forms an input may take (the parse holds any day).
TODAY_S = now_ms() // 1000
UTC_TEXT = datetime.fromtimestamp(TODAY_S, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
LOCAL_TEXT = datetime.fromtimestamp(TODAY_S, LOCAL).strftime("%Y-%m-%dT%H:%M:%S")
DAY = LOCAL_TEXT[:10]
WEEK = "{}-W{:02d}-{}".format(*datetime.fromtimestamp(TODAY_S, LOCAL).isocalendar())


@pytest.mark.parametrize("raw, ms", [
    (f"{LOCAL_TEXT}+08:00", TODAY_S * 1000),
    (f"{UTC_TEXT}Z", TODAY_S * 1000),
    (f"{UTC_TEXT}.250Z", TODAY_S * 1000 + 250),
    (TODAY_S * 1000, TODAY_S * 1000),
])
def test_times(raw, ms):
    assert parse_time_ms(raw) == ms


@pytest.mark.parametrize("raw", [f"{DAY}T08:00:00", "noon", True, 1.5, None, f"{DAY} 08:00:00+08:00",
                                 f"{DAY.replace('-', '')}T080000+0800", f"{WEEK}T08:00:00Z", f"{DAY}T08:00Z",
                                 f"{DAY}T08:00:00+08:00\n",
                                 DAY.translate(str.maketrans("0123456789", "０１２３４５６７８９")) + "T08:00:00Z",
                                 "2026-02-30T08:00:00Z",
                                 "9999-12-31T23:59:59-12:00", "1969-12-31T23:59:59Z", 10**15, -1, MAX_MS,
                                 f"{DAY}T08:00:00+24:00", f"{DAY}T08:00:00." + "1" * 40 + "Z"])
def test_what_is_not_an_rfc3339_time_or_in_range_is_refused(raw):
    with pytest.raises(TimeError):
        parse_time_ms(raw)


@pytest.mark.parametrize("raw", ["²", "1" * 5000, "9" * 16, "-5", "1e3", "0x10", "１２", "1795824000000 "])
def test_odd_query_times_are_refused(raw):
    with pytest.raises(TimeError):
        parse_query_time(raw, "since")


def test_query_times_in_range_are_read():
    assert parse_query_time("1795824000000", "since") == 1795824000000
    assert parse_query_time(str(MIN_MS), "since") == MIN_MS


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


@given(st.integers(min_value=MIN_MS, max_value=MAX_MS - 1))
def test_epoch_ms_round_trips_through_rfc3339(ms):
    assert parse_time_ms(rfc3339(ms)) == ms


@given(st.integers(min_value=MIN_MS, max_value=MAX_MS - 1), st.integers(min_value=-23 * 60, max_value=23 * 60))
def test_offsets_name_the_same_instant(ms, minutes):
    from datetime import datetime, timedelta, timezone

    local = datetime.fromtimestamp(ms / 1000, timezone(timedelta(minutes=minutes))).isoformat(timespec="milliseconds")
    try:
        assert parse_time_ms(local) == ms
    except TimeError:  # the local year left 2000..2099 at the range's very ends
        assert not MIN_MS + 86_400_000 < ms < MAX_MS - 86_400_000
