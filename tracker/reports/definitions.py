"""The supervision figures (联网联控 KPIs) as pure functions: periods, definitions, the
figures built from raw counts, and their CSV for the bureaus' bulletins.

The counts come from PostGIS (tracker.db.kpis); everything a bureau may want to
recompute with its own thresholds is kept beside each value: the numerator, the
denominator and the definition used, with the parameters in it.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from streams.rules.config import RuleConfig
from streams.times import LOCAL, MAX_MS, MIN_MS, utc

# The figures in the order bulletins print them, with their Chinese names (CSV headers and rows).
NAMES = {
    "access_rate": "入网率",
    "online_rate": "上线率",
    "data_qualification_rate": "数据合格率",
    "track_completeness": "轨迹完整率",
    "drift_rate": "漂移率",
    "offline_displacements": "离线位移",
    "alarms_per_100km": "百公里报警数",
    "handling_rate": "处置率",
    "median_ack_s": "报警确认时间中位数(秒)",
    "checkpoint_match_rate": "卡口轨迹匹配率",
}
CSV_COLUMNS = ["周期", "日期", "承运企业", "指标", "指标名称", "报警类型", "数值", "分子", "分母", "定义"]
PERIODS = ("day", "month")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_MONTH = re.compile(r"\d{4}-\d{2}")
FIRST_DAY, END_DAY = utc(MIN_MS).date(), utc(MAX_MS).date()  # 2000-01-01, 2100-01-01 (exclusive)


@dataclass(frozen=True)
class KpiParams:
    """Thresholds the national rules leave to provincial annexes; each is HAZMAT_KPI_<NAME>."""

    track_gap_s: int = 300  # consecutive fixes further apart in time break the track
    track_gap_m: int = 5_000  # ... or further apart in space
    drift_min_jumps: int = 1  # a vehicle with this many gps_jump violations in the period drifts
    max_speed_kmh: int = 160  # a record reporting more is not qualified


class PeriodError(ValueError):
    """A period or date the report cannot be made for."""


@dataclass(frozen=True)
class Period:
    kind: str  # day | month
    label: str  # YYYY-MM-DD | YYYY-MM
    start: datetime  # aware, local midnight
    end: datetime  # exclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days


def period(kind: str, label: str) -> Period:
    """A local (Asia/Shanghai) day or month, as the bulletins count them; within the dates of
    the system's time range, so that the day or month after it is a date too (9999-12-31
    has none)."""
    if kind not in PERIODS:
        raise PeriodError(f"period must be one of {', '.join(PERIODS)}")
    try:
        if not (_DAY if kind == "day" else _MONTH).fullmatch(label):
            raise ValueError
        first = date.fromisoformat(label if kind == "day" else f"{label}-01")
    except ValueError:
        raise PeriodError(f"date must be {'YYYY-MM-DD' if kind == 'day' else 'YYYY-MM'} for period={kind}") from None
    if not FIRST_DAY <= first < END_DAY:
        raise PeriodError(f"date must be within {FIRST_DAY}..{END_DAY - timedelta(days=1)}")
    if kind == "day":
        after = first + timedelta(days=1)
    else:
        after = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    as_local = lambda d: datetime(d.year, d.month, d.day, tzinfo=LOCAL)  # noqa: E731
    return Period(kind, label, as_local(first), as_local(after))


def definitions(params: KpiParams, rules: RuleConfig) -> dict[str, str]:
    gap = f"{params.track_gap_s} s or {params.track_gap_m} m"
    return {
        "access_rate": "vehicles registered that had sent at least one stored fix by the end of the period "
                       "/ vehicles registered (the current registry, by its carrier)",
        "online_rate": "vehicles with at least one stored fix in the period / vehicles connected (access_rate's numerator)",
        "data_qualification_rate": (
            "qualified records / all records received in the period (stored fixes plus fixes refused at intake or by "
            "a worker, i.e. dead-lettered); qualified: a stored fix of a registered plate with ts no later than its "
            f"receipt + 5 min, coordinates inside China (73.5-135.1 E, 3.8-53.6 N), speed 0-{params.max_speed_kmh} km/h "
            "and heading 0-359; refused fixes are counted by receipt time and charged to their plate's carrier "
            "(unknown plates only to the district)"),
        "track_completeness": (
            f"kilometres between consecutive stored fixes of a vehicle at most {gap} apart / all kilometres between "
            "consecutive stored fixes (great-circle distances, fixes of the period only)"),
        "drift_rate": (
            f"vehicles with at least {params.drift_min_jumps} gps_jump violation(s) begun in the period (implied speed "
            f"> {rules.jump_speed_kmh:g} km/h over > {rules.jump_min_m:g} m) / online vehicles"),
        "offline_displacements": (
            "offline_displacement violations begun in the period (a vehicle silent >= "
            f"{rules.offline_s} s that reappears far away); a count, no denominator"),
        "alarms_per_100km": (
            "violations begun in the period (withdrawn ones excluded) / kilometres driven (track_completeness's "
            "denominator) x 100; by_kind gives the same per violation kind"),
        "handling_rate": "violations begun in the period (withdrawn ones excluded) that were acknowledged or "
                         "resolved / violations begun in the period",
        "median_ack_s": "median seconds from a violation's start to its acknowledgement, over the violations begun "
                        "in the period that were acknowledged (denominator)",
        "checkpoint_match_rate": (
            "checkpoint reads (confidence >= 0.8) of registered vehicles in the period with a fix of the vehicle "
            "within 1 km of the checkpoint and 5 min of the read / such reads whose check is decided (the "
            "HAZMAT_CHECKPOINT_* thresholds in force; these are the defaults)"),
    }


def _ratio(numerator: float | int | None, denominator: float | int | None, scale: float = 1.0) -> float | None:
    if numerator is None or not denominator:
        return None
    return round(numerator / denominator * scale, 6)


def _figure(value, numerator, denominator, definition: str) -> dict:
    return {"value": value, "numerator": numerator, "denominator": denominator, "definition": definition}


def figures(counts: dict, params: KpiParams, rules: RuleConfig) -> dict[str, dict]:
    """The figures from raw counts (tracker.db.kpis.counts): rates as fractions 0..1 (null
    when the denominator is 0), distances in km."""
    text = definitions(params, rules)
    km = round(counts["mileage_m"] / 1000, 3)
    continuous_km = round(counts["continuous_m"] / 1000, 3)
    received = counts["records"] + counts["dead_fixes"]
    alarms = counts["alarms_by_kind"]
    total_alarms = sum(alarms.values())
    handling = counts["handling"]
    return {
        "access_rate": _figure(_ratio(counts["connected"], counts["registered"]), counts["connected"],
                               counts["registered"], text["access_rate"]),
        "online_rate": _figure(_ratio(counts["online"], counts["connected"]), counts["online"], counts["connected"],
                               text["online_rate"]),
        "data_qualification_rate": _figure(_ratio(counts["qualified"], received), counts["qualified"], received,
                                           text["data_qualification_rate"]),
        "track_completeness": _figure(_ratio(continuous_km, km), continuous_km, km, text["track_completeness"]),
        "drift_rate": _figure(_ratio(counts["drifting"], counts["online"]), counts["drifting"], counts["online"],
                              text["drift_rate"]),
        "offline_displacements": _figure(counts["offline_displacements"], counts["offline_displacements"], None,
                                         text["offline_displacements"]),
        "alarms_per_100km": dict(
            _figure(_ratio(total_alarms, km, 100), total_alarms, km, text["alarms_per_100km"]),
            by_kind={kind: {"value": _ratio(n, km, 100), "numerator": n, "denominator": km}
                     for kind, n in sorted(alarms.items())}),
        "handling_rate": _figure(_ratio(handling["handled"], handling["alarms"]), handling["handled"],
                                 handling["alarms"], text["handling_rate"]),
        "median_ack_s": _figure(handling["median_ack_s"], None, handling["acked"], text["median_ack_s"]),
        "checkpoint_match_rate": _figure(_ratio(counts["checkpoint_matched"], counts["checkpoint_reads"]),
                                         counts["checkpoint_matched"], counts["checkpoint_reads"],
                                         text["checkpoint_match_rate"]),
    }


def report(p: Period, carrier_id: str | None, figs: dict[str, dict]) -> dict:
    return {"period": p.kind, "date": p.label, "carrier_id": carrier_id, "figures": figs}


def _cell(value) -> str:
    return "" if value is None else str(value)


def to_csv(rep: dict) -> str:
    """One row per figure (and per kind for alarms_per_100km), Chinese headers; an empty
    cell is a null. With a BOM so that spreadsheet programs read the Chinese as UTF-8."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    head = [rep["period"], rep["date"], _cell(rep["carrier_id"])]
    for name, chinese in NAMES.items():
        f = rep["figures"][name]
        writer.writerow(head + [name, chinese, "", _cell(f["value"]), _cell(f["numerator"]),
                                _cell(f["denominator"]), f["definition"]])
        for kind, k in f.get("by_kind", {}).items():
            writer.writerow(head + [name, chinese, kind, _cell(k["value"]), _cell(k["numerator"]),
                                    _cell(k["denominator"]), ""])
    return "\ufeff" + buffer.getvalue()


def from_csv(text: str) -> dict:
    """The report a CSV of to_csv() holds (numbers as numbers): for tests and for bureaus'
    scripts that want the JSON back."""
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows[0] == CSV_COLUMNS, rows[0]
    number = lambda c: None if c == "" else (int(c) if re.fullmatch(r"-?\d+", c) else float(c))  # noqa: E731
    figs: dict[str, dict] = {}
    rep = {}
    for row in rows[1:]:
        cols = dict(zip(CSV_COLUMNS, row))
        rep = {"period": cols["周期"], "date": cols["日期"], "carrier_id": cols["承运企业"] or None}
        value = {"value": number(cols["数值"]), "numerator": number(cols["分子"]), "denominator": number(cols["分母"])}
        if cols["报警类型"]:
            figs[cols["指标"]]["by_kind"][cols["报警类型"]] = value
        else:
            figs[cols["指标"]] = dict(value, definition=cols["定义"])
            if cols["指标"] == "alarms_per_100km":
                figs[cols["指标"]]["by_kind"] = {}
    return dict(rep, figures=figs)
