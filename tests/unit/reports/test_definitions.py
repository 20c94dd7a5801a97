"""The KPI figures from raw counts, the periods and the CSV (no database)."""
from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given, strategies as st

from streams.rules.config import RuleConfig
from streams.times import LOCAL
from tracker.reports.definitions import (CSV_COLUMNS, NAMES, KpiParams, PeriodError, definitions, figures, from_csv,
                                         period, report, to_csv)

COUNTS = {"registered": 10, "connected": 8, "online": 5, "records": 90, "qualified": 85, "dead_fixes": 10,
          "mileage_m": 250_000.0, "continuous_m": 200_000.0, "drifting": 1, "offline_displacements": 2,
          "alarms_by_kind": {"speeding": 4, "offline_displacement": 2, "gps_jump": 1},
          "handling": {"alarms": 7, "handled": 5, "acked": 4, "median_ack_s": 42.0},
          "checkpoint_reads": 6, "checkpoint_matched": 5}


def test_local_days_and_months():
    d = period("day", "2026-11-30")
    assert (d.start, d.end) == (datetime(2026, 11, 30, tzinfo=LOCAL), datetime(2026, 12, 1, tzinfo=LOCAL))
    m = period("month", "2026-12")
    assert (m.start, m.end, m.days) == (datetime(2026, 12, 1, tzinfo=LOCAL), datetime(2027, 1, 1, tzinfo=LOCAL), 31)
    assert period("month", "2028-02").days == 29
    assert period("month", "2099-12").end == datetime(2100, 1, 1, tzinfo=LOCAL)  # the last the time range holds
    assert period("day", "2000-01-01").days == 1


@pytest.mark.parametrize("kind, label", [("week", "2026-12"), ("day", "2026-12"), ("month", "2026-12-01"),
                                         ("day", "2026-02-30"), ("month", "2026-13"), ("day", "1999-12-31"),
                                         ("day", "2026-1-01"), ("day", ""), ("day", "9999-12-31"),
                                         ("month", "9999-12"), ("day", "0001-01-01"), ("month", "0000-01"),
                                         ("day", "2100-01-01"), ("month", "2100-01")])
def test_periods_the_report_cannot_make(kind, label):
    with pytest.raises(PeriodError):
        period(kind, label)


def test_figures_keep_numerator_denominator_and_definition():
    figs = figures(COUNTS, KpiParams(), RuleConfig())
    assert list(figs) == list(NAMES)
    assert figs["access_rate"] | {"definition": ""} == {"value": 0.8, "numerator": 8, "denominator": 10, "definition": ""}
    assert (figs["online_rate"]["value"], figs["online_rate"]["denominator"]) == (0.625, 8)
    assert figs["data_qualification_rate"]["value"] == 0.85  # 85 of 90 stored + 10 refused
    assert figs["data_qualification_rate"]["denominator"] == 100
    assert figs["track_completeness"] | {"definition": ""} == {"value": 0.8, "numerator": 200.0, "denominator": 250.0,
                                                               "definition": ""}
    assert figs["drift_rate"]["value"] == 0.2
    assert figs["offline_displacements"]["value"] == 2 and figs["offline_displacements"]["denominator"] is None
    alarms = figs["alarms_per_100km"]
    assert (alarms["value"], alarms["numerator"], alarms["denominator"]) == (2.8, 7, 250.0)
    assert alarms["by_kind"]["speeding"] == {"value": 1.6, "numerator": 4, "denominator": 250.0}
    for f in figs.values():
        assert f["definition"]


def test_handling_rate_over_alarms_and_median_ack_over_acknowledged_ones():
    figs = figures(COUNTS, KpiParams(), RuleConfig())
    assert (figs["handling_rate"]["value"], figs["handling_rate"]["numerator"],
            figs["handling_rate"]["denominator"]) == (0.714286, 5, 7)
    assert (figs["median_ack_s"]["value"], figs["median_ack_s"]["numerator"],
            figs["median_ack_s"]["denominator"]) == (42.0, None, 4)
    none = figures(dict(COUNTS, handling={"alarms": 0, "handled": 0, "acked": 0, "median_ack_s": None}),
                   KpiParams(), RuleConfig())
    assert none["handling_rate"]["value"] is None and none["median_ack_s"]["value"] is None


def test_empty_denominators_give_null_not_a_division_error():
    empty = dict(COUNTS, registered=0, connected=0, online=0, records=0, qualified=0, dead_fixes=0, mileage_m=0.0,
                 continuous_m=0.0, drifting=0, alarms_by_kind={})
    figs = figures(empty, KpiParams(), RuleConfig())
    assert all(figs[n]["value"] is None for n in ("access_rate", "online_rate", "data_qualification_rate",
                                                  "track_completeness", "drift_rate", "alarms_per_100km"))


def test_definitions_name_the_parameters_in_force():
    text = definitions(KpiParams(track_gap_s=120, track_gap_m=2500, drift_min_jumps=3, max_speed_kmh=120),
                       RuleConfig(jump_speed_kmh=180))
    assert "120 s or 2500 m" in text["track_completeness"]
    assert "at least 3 gps_jump" in text["drift_rate"] and "180 km/h" in text["drift_rate"]
    assert "speed 0-120 km/h" in text["data_qualification_rate"]


def test_csv_has_chinese_headers_and_parses_back_to_the_report():
    rep = report(period("month", "2026-11"), "C1", figures(COUNTS, KpiParams(), RuleConfig()))
    text = to_csv(rep)
    assert text.startswith("\ufeff" + ",".join(CSV_COLUMNS))
    assert "入网率" in text and "百公里报警数" in text
    assert from_csv(text) == rep


@given(st.fixed_dictionaries({k: st.integers(0, 10**6) for k in ("registered", "connected", "online", "records",
                                                                  "qualified", "dead_fixes", "drifting",
                                                                  "offline_displacements", "checkpoint_reads",
                                                                  "checkpoint_matched")}),
       st.floats(0, 1e9), st.floats(0, 1), st.dictionaries(st.sampled_from(["speeding", "gps_jump", "offline"]),
                                                           st.integers(0, 1000)))
def test_csv_round_trip_for_any_counts(ints, mileage, share, alarms):
    counts = dict(ints, mileage_m=mileage, continuous_m=mileage * share, alarms_by_kind=alarms,
                  handling=COUNTS["handling"])
    rep = report(period("day", "2026-12-01"), None, figures(counts, KpiParams(), RuleConfig()))
    assert from_csv(to_csv(rep)) == rep
