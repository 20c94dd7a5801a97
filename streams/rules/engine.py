"""The per-vehicle state machine: one fix at a time, in event time, returning events.

`step` applies one fix (`Step`: every rule of a fix, the gps_jump and
offline_displacement ones too); `tick` advances the clock for timers when no fix comes
(`Clock`: offline, and incident_zone_entry of a closed incident). Both are pure: the same
state and inputs give the same events, at any replay speed, which is what makes
violation ids stable. Each rule keeps its own part of the state (streams.rules.state);
the violations are values (streams.rules.violations.Violation), replaced, never edited.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from geofence.index import GeofenceIndex
from geofence.metric import haversine_m, surely_within_m
from geofence.model import Geofence, incident_zone_id
from streams.rules.config import RuleConfig
from streams.rules.motion import CREEPS, LEAVES, MOVES_ON, STAYS, STOPS, transition
from streams.rules.signals import terminal_alarms
from streams.rules.state import VehicleState
from streams.rules.violations import CLOSED, OPENED, Violation, close_violation, open_violation, withdraw_violation
from streams.rules.waybills import ActiveWaybill
from streams.rules.windows import banned, window_in_force
from streams.times import in_minutes, local_midnight, rfc3339

Event = tuple[str, Violation]  # (event type, violation)
STOP_ALLOWED = ("parking", "chem_park", "filling_station")
NO_ZONES: list[Geofence] = []
JUDGED_NO_STOPPING, JUDGED_PARKING = 1, 2  # Stop.stop_judged bits
INCIDENT_ZONES = ("isolation", "protective", "fire")
NEAREST_REPORTED_M = 1000.0  # an illegal stop's details name the nearest allowed zone this close


@dataclass
class Context:
    index: GeofenceIndex  # the geofences, and the zones near a stop's centre
    waybill_at: Callable[[str, int], ActiveWaybill | None]
    config: RuleConfig = RuleConfig()

    @property
    def geofences(self) -> Mapping[str, Geofence]:
        return self.index.geofences


def waybill_details(waybill: ActiveWaybill, at_ms: int) -> dict:
    """A waybill as a verdict's details name it: which one, its validity, active at `at_ms`?"""
    return {"id": waybill.id, "valid_from": rfc3339(waybill.valid_from), "valid_to": rfc3339(waybill.valid_to),
            "active": waybill.valid_at(at_ms)}


def point(lat: float, lon: float) -> dict:
    return {"lat": round(lat, 7), "lon": round(lon, 7)}


class Rules:
    """What the rules of a fix (`Step`) and of the clock (`Clock`) share: the state, the
    events they cause, and opening and closing the state's open violations."""

    __slots__ = ("s", "ctx", "cfg", "events")

    def __init__(self, state: VehicleState, ctx: Context) -> None:
        # (Step.__init__ sets these itself, for speed: a field added here goes there too.)
        self.s, self.ctx, self.cfg = state, ctx, ctx.config
        self.events: list[Event] = []

    def open(self, key: str, kind: str, started: int, lat: float, lon: float, **extra) -> None:
        if key in self.s.open:
            return
        violation = open_violation(kind, self.s.plate, self.s.carrier_id, started, lat, lon, **extra)
        self.s.open[key] = violation
        self.events.append((OPENED, violation))

    def close(self, key: str, ended: int, **details) -> None:
        violation = self.s.open.pop(key, None)
        if violation is not None:
            self.events.append((CLOSED, close_violation(violation, ended, **details)))

    def close_matching(self, prefix: str, ended: int) -> None:
        for key in [k for k in self.s.open if k.startswith(prefix)]:
            self.close(key, ended)

    def note(self, key: str, **details) -> None:
        """Figures of an open violation that grew while it lasts (announced when it closes)."""
        self.s.open[key] = self.s.open[key].noted(**details)

    def decided(self, kind: str, started: int, lat: float, lon: float, ended: int, closing: dict | None = None,
                **extra) -> None:
        """A violation opened and closed at once (never kept open)."""
        violation = open_violation(kind, self.s.plate, self.s.carrier_id, started, lat, lon, **extra)
        self.events += [(OPENED, violation), (CLOSED, close_violation(violation, ended, **(closing or {})))]


class Clock(Rules):
    """The timers of one state at `now` without a fix: `offline` once the silence reaches
    offline_s, if at that moment a waybill is active or the last fix was moving (a parked
    vehicle whose trip has ended may be switched off); incident_zone_entry once its
    incident has closed."""

    __slots__ = ("now",)

    def __init__(self, state: VehicleState, now_ms: int, ctx: Context) -> None:
        super().__init__(state, ctx)
        self.now = now_ms

    def run(self) -> list[Event]:
        if self.s.incidents:
            self.incidents_closed()
        self.offline()
        return self.events

    def incidents_closed(self) -> None:
        """incident_zone_entry of a vehicle gone silent inside: closed when the incident closes."""
        s = self.s
        for iid in [i for i in s.incidents if incident_gone(i, self.ctx)]:
            del s.incidents[iid]
            self.close(f"incident_zone_entry:{iid}", max(self.now, s.last_ts or self.now),
                       closed_because="incident_closed")

    def offline(self) -> None:
        s, cfg = self.s, self.cfg
        if s.last_ts is None or "offline" in s.open or self.now - s.last_ts < cfg.offline_s * 1000:
            return
        reached = s.last_ts + cfg.offline_s * 1000
        waybill = self.ctx.waybill_at(s.plate, reached)
        moving = s.last_speed >= cfg.stop_speed_kmh
        if waybill is None and not moving:
            return
        self.open("offline", "offline", s.last_ts, s.last_lat, s.last_lon, waybill_id=waybill.id if waybill else None,
                  details={"last_speed_kmh": s.last_speed, "silence_reached_at": rfc3339(reached),
                           "because": "waybill_active" if waybill else "last_fix_moving",
                           "waybill": waybill_details(waybill, reached) if waybill else None})


class Step(Rules):
    """One fix applied to one state; collects the events it causes.

    Each rule is a method that starts with its own guard (most fixes give most rules
    nothing to do), in the order run() calls them."""

    __slots__ = ("fix", "t", "lat", "lon", "speed", "zones", "_zone_ids", "_waybill")

    def __init__(self, state: VehicleState, fix: dict, zones: frozenset[str], ctx: Context) -> None:
        # (Rules.__init__'s fields set here, not through it: one call less a fix.)
        self.s, self.ctx, self.cfg, self.events = state, ctx, ctx.config, []
        self.fix, self.t, self.lat, self.lon, self.speed = fix, fix["ts"], fix["lat"], fix["lon"], fix["speed_kmh"]
        self._zone_ids = zones
        self.zones = NO_ZONES
        self._waybill: ActiveWaybill | None | bool = False  # False: not looked up yet

    @property
    def waybill(self) -> ActiveWaybill | None:
        """The active waybill at this fix, looked up once per fix (several rules ask)."""
        if self._waybill is False:
            self._waybill = self.ctx.waybill_at(self.s.plate, self.t)
        return self._waybill

    # -- the rules, in order ---------------------------------------------------------
    def run(self) -> list[Event]:
        """Duplicates and fixes older than the last one change no state; impossible jumps
        yield a gps_jump and are kept out of state; a silence the clock did not see pass
        runs its timers first. The terminal's own alarms (streams.rules.signals) count on
        every new fix, a jump too."""
        s, fix = self.s, self.fix
        carrier = fix.get("carrier_id")  # the registry's answer when the fix was accepted
        if carrier is not None:  # (a stored fix read back for a replay has none)
            s.carrier_id = carrier  # a vehicle moved to another carrier: its violations from now on
        if s.last_ts is not None:
            if self.t <= s.last_ts:
                if self.t < s.last_ts:
                    s.late_fixes += 1
                return self.events
            # A silence the clock did not see pass (a backlog, a replay, a back-filled track): the
            # offline violation it makes must not depend on where batches happened to end.
            silent = self.t - s.last_ts >= self.cfg.offline_s * 1000
            if silent:
                self.events += Clock(s, self.t, self.ctx).run()
            if self.gps_jump():
                self.events += terminal_alarms(s, fix, self.cfg)
                return self.events
            if silent:
                self.offline_displacement()
        if self._zone_ids:
            geofences = self.ctx.geofences
            self.zones = [geofences[g] for g in sorted(self._zone_ids) if g in geofences]
        self.back_online()
        self.motion()
        self.rest()
        self.no_stopping()
        self.illegal_parking()
        self.restricted_roads()
        self.incident_zones()
        self.speeding()
        self.night()
        self.fatigue()
        self.route()
        s.last_ts, s.last_lat, s.last_lon, s.last_speed = self.t, self.lat, self.lon, self.speed
        if "alarm_flags" in fix or "active_safety" in fix:  # (what a terminal signals, wherever it is)
            self.events += terminal_alarms(s, fix, self.cfg)
        return self.events

    def gps_jump(self) -> bool:
        """Is the fix impossible to reach from the last one? Then a gps_jump (opened and
        closed) and the fix is kept out of state, unless it agrees with the jump before it:
        two fixes in a row outweigh the last position."""
        s, fix, cfg = self.s, self.fix, self.cfg
        if surely_within_m(s.last_lat, s.last_lon, self.lat, self.lon, cfg.jump_min_m):  # most fixes: no jump
            s.jump.unconfirmed = None
            return False
        jump, distance, implied = is_jump(s.last_lat, s.last_lon, s.last_ts, fix, cfg)
        if jump and not _agrees(s.jump.unconfirmed, fix, cfg):
            s.jump.unconfirmed = fix
            self.decided("gps_jump", self.t, self.lat, self.lon, self.t, {"duration_s": 0},
                         details={"distance_m": round(distance, 1), "implied_speed_kmh": round(implied, 1),
                                  "from": {"lat": s.last_lat, "lon": s.last_lon}})
            return True
        s.jump.unconfirmed = None  # a spike (this fix continues from the last good one), or confirmed
        return False

    def offline_displacement(self) -> None:
        """The first fix after a silence of offline_s is far from the last one before it, so
        the vehicle drove with its terminal off (opened and closed at once, spanning the
        silence)."""
        s = self.s
        distance = haversine_m(s.last_lat, s.last_lon, self.lat, self.lon)
        if distance <= self.cfg.offline_displacement_m:
            return
        self.decided("offline_displacement", s.last_ts, self.lat, self.lon, self.t,
                     details={"gap_s": (self.t - s.last_ts) // 1000, "distance_m": round(distance, 1),
                              "from": {**point(s.last_lat, s.last_lon), "at": rfc3339(s.last_ts)},
                              "to": {**point(self.lat, self.lon), "at": rfc3339(self.t)}})

    def back_online(self) -> None:
        """The clock opened `offline` while no fix had arrived; a fix from within offline_s
        of the last one (a delayed upload, blind-area back-fill) shows the vehicle was never
        silent that long: the violation is withdrawn, not closed."""
        if "offline" not in self.s.open:
            return
        if self.t - self.s.last_ts >= self.cfg.offline_s * 1000:
            self.close("offline", self.t)
        else:
            self.events.append((CLOSED, withdraw_violation(self.s.open.pop("offline"), "a delayed fix shows no silence")))

    def motion(self) -> None:
        """Stops robust to parked GPS jitter (streams.rules.motion decides, as the live feed
        does): a stop begins below stop_speed and lasts until the vehicle is move_away_m
        from where it stopped, whatever speed jitter reports. The stop's first fixes are
        kept: its centre is their median."""
        stop, cfg = self.s.stop, self.cfg
        if stop.anchor_ts is None and self.speed >= cfg.stop_speed_kmh:
            return  # driving on: the common case, decided without a call
        anchor = None if stop.anchor_ts is None else (stop.anchor_lat, stop.anchor_lon)
        move = transition(anchor, self.lat, self.lon, self.speed, cfg)
        if move in (LEAVES, MOVES_ON):
            self.end_stop()
        if move in (STOPS, MOVES_ON) or (move == CREEPS and not self.stop_violation_open()):
            self.begin_stop()  # (creeping on with a stop violation open stays the same stop)
        elif move in (STAYS, CREEPS) and len(stop.stop_fixes) < 2 * cfg.stop_sample:
            stop.stop_fixes += (round(self.lat * 1e6), round(self.lon * 1e6))

    def begin_stop(self) -> None:
        stop = self.s.stop
        stop.anchor_ts, stop.anchor_lat, stop.anchor_lon = self.t, self.lat, self.lon
        stop.stop_fixes = [round(self.lat * 1e6), round(self.lon * 1e6)]
        stop.stop_judged = 0

    def centre(self) -> tuple[float, float]:
        """The stop's centre; its anchor for a stop begun before states kept a sample (a
        state stored by an older version)."""
        stop = self.s.stop
        return stop_centre(stop.stop_fixes) if stop.stop_fixes else (stop.anchor_lat, stop.anchor_lon)

    def stop_violation_open(self) -> bool:
        return any(k == "illegal_parking" or k.startswith("no_stopping:") for k in self.s.open)

    def end_stop(self) -> None:
        stop = self.s.stop
        if self.s.open:
            self.close("illegal_parking", self.t)
            self.close_matching("no_stopping:", self.t)
        if self.t - stop.anchor_ts >= self.cfg.rest_s * 1000:
            self.rested(stop.anchor_ts + self.cfg.rest_s * 1000)
        stop.anchor_ts, stop.stop_fixes, stop.stop_judged = None, [], 0

    def rested(self, at: int) -> None:
        driving = self.s.driving
        self.close("fatigue_driving", at)
        driving.drive_start_ts, driving.night_drive_ms = None, 0

    def rest(self) -> None:
        """A stop of rest_s ends a stretch of driving (and an open fatigue_driving)."""
        s, cfg = self.s, self.cfg
        anchor_ts = s.stop.anchor_ts
        if anchor_ts is None or (s.driving.drive_start_ts is None and "fatigue_driving" not in s.open):
            return
        if self.t - anchor_ts >= cfg.rest_s * 1000:
            self.rested(anchor_ts + cfg.rest_s * 1000)

    def verdict_due(self, verdict: int, after_s: int) -> bool:
        """Has the stop lasted `after_s` without this verdict made? Then it is made now."""
        stop = self.s.stop
        if stop.anchor_ts is None or stop.stop_judged & verdict or self.t - stop.anchor_ts < after_s * 1000:
            return False
        stop.stop_judged |= verdict
        return True

    def no_stopping(self) -> None:
        """A stop whose centre is inside a no-stopping zone once it has lasted no_stopping_s;
        judged once a stop, open until the vehicle moves away."""
        stop = self.s.stop
        if not self.verdict_due(JUDGED_NO_STOPPING, self.cfg.no_stopping_s):
            return
        lat, lon = self.centre()
        for _, gid in self.ctx.index.near(lat, lon, 0.0, ("no_stopping",)):
            self.open(f"no_stopping:{gid}", "no_stopping", stop.anchor_ts, lat, lon, geofence_id=gid,
                      details={"centre": point(lat, lon), "centre_of_fixes": len(stop.stop_fixes) // 2,
                               "geofence_name": self.ctx.geofences[gid].name})

    def illegal_parking(self) -> None:
        """A stop of illegal_parking_s whose centre is neither within the edge tolerance of
        a parking lot, chemical park or filling station nor near the waybill's ends;
        judged once a stop, open until the vehicle moves away."""
        stop, cfg = self.s.stop, self.cfg
        if not self.verdict_due(JUDGED_PARKING, cfg.illegal_parking_s):
            return
        lat, lon = self.centre()
        if self.ctx.index.near(lat, lon, cfg.stop_edge_tolerance_m, STOP_ALLOWED):
            return
        waybill = self.waybill
        if waybill is not None and waybill.near_an_end(lat, lon, cfg.waybill_place_radius_m):
            return
        nearest = self.ctx.index.near(lat, lon, NEAREST_REPORTED_M, STOP_ALLOWED)
        details = {"centre": point(lat, lon), "centre_of_fixes": len(stop.stop_fixes) // 2,
                   "edge_tolerance_m": cfg.stop_edge_tolerance_m,
                   "nearest_allowed": None if not nearest else {
                       "geofence_id": nearest[0][1], "kind": self.ctx.geofences[nearest[0][1]].kind,
                       "distance_m": round(nearest[0][0], 1)},
                   "waybill": waybill_details(waybill, self.t) if waybill else None}
        self.open("illegal_parking", "illegal_parking", stop.anchor_ts, lat, lon,
                  waybill_id=waybill.id if waybill else None, details=details)

    def restricted_roads(self) -> None:
        """Two consecutive fixes (>= 10 s apart) inside during a ban window open; two outside close."""
        s, gap = self.s, self.cfg.restricted_min_gap_s * 1000
        if not self.zones and not s.restricted:
            return
        inside = {g.id: g for g in self.zones if g.kind == "restricted_road" and banned(self.t, g.ban_windows)}
        for gid, zone in inside.items():
            first, count_in, _ = s.restricted.get(gid, [self.t, 0, 0])
            s.restricted[gid] = [first, count_in + 1, 0]
            if count_in + 1 >= 2 and self.t - first >= gap and f"restricted_road:{gid}" not in s.open:
                self.open(f"restricted_road:{gid}", "restricted_road", first, self.lat, self.lon, geofence_id=gid,
                          details={"geofence_name": zone.name, "ban_window": window_in_force(first, zone.ban_windows),
                                   "always_banned": zone.ban_windows is None})
        for gid in [g for g in s.restricted if g not in inside]:
            first, _, count_out = s.restricted[gid]
            if f"restricted_road:{gid}" not in s.open:
                del s.restricted[gid]
            elif count_out + 1 >= 2:
                self.close(f"restricted_road:{gid}", self.t)
                del s.restricted[gid]
            else:
                s.restricted[gid] = [first, 0, count_out + 1]

    def incident_zones(self) -> None:
        """An open incident's zones (geofences of kind incident_zone): two consecutive fixes
        of another vehicle inside any of them open incident_zone_entry, naming the innermost
        zone it was first seen in; two fixes outside, or the incident closed (its zones gone
        from the geofences), close it."""
        s = self.s
        if not self.zones and not s.incidents:
            return
        inside: dict[str, Geofence] = {}
        for g in self.zones:
            ref = g.incident
            if ref is not None and ref.plate != s.plate:
                if ref.incident_id not in inside or ref.rank < inside[ref.incident_id].incident.rank:
                    inside[ref.incident_id] = g
        for iid, zone in inside.items():
            first, count_in, _ = s.incidents.get(iid, [self.t, 0, 0])
            s.incidents[iid] = [first, count_in + 1, 0]
            ref = zone.incident
            if count_in + 1 >= 2:
                self.open(f"incident_zone_entry:{iid}", "incident_zone_entry", first, self.lat, self.lon,
                          geofence_id=zone.id,
                          details={"incident_id": iid, "zone": ref.zone, "un_number": ref.un_number,
                                   "distance_m": round(haversine_m(self.lat, self.lon, ref.lat, ref.lon), 1)})
        for iid in [i for i in s.incidents if i not in inside]:
            key = f"incident_zone_entry:{iid}"
            first, _, count_out = s.incidents[iid]
            if key not in s.open:
                del s.incidents[iid]
            elif incident_gone(iid, self.ctx):
                self.close(key, self.t, closed_because="incident_closed")
                del s.incidents[iid]
            elif count_out + 1 >= 2:
                self.close(key, self.t, closed_because="left")
                del s.incidents[iid]
            else:
                s.incidents[iid] = [first, 0, count_out + 1]

    def speed_limit(self) -> tuple[float, str | None]:
        if not self.zones:
            return self.cfg.default_speed_limit_kmh, None
        zones = [g for g in self.zones if g.kind == "speed_zone" and g.speed_limit_kmh is not None]
        if not zones:
            return self.cfg.default_speed_limit_kmh, None
        zone = min(zones, key=lambda g: g.speed_limit_kmh)
        return zone.speed_limit_kmh, zone.id

    def speeding(self) -> None:
        s, sp, hold = self.s, self.s.speeding, self.cfg.speeding_s * 1000
        if not (self.zones or s.open or sp.above_ts is not None or self.speed > self.cfg.default_speed_limit_kmh):
            return
        limit, zone = self.speed_limit()
        if self.speed > limit:
            sp.below_ts = None
            if sp.above_ts is None:
                sp.above_ts, sp.max_speed = self.t, 0.0
            sp.max_speed = max(sp.max_speed, self.speed)
            if "speeding" in s.open:
                if s.open["speeding"].details["max_speed_kmh"] != sp.max_speed:
                    self.note("speeding", max_speed_kmh=sp.max_speed)
            elif self.t - sp.above_ts >= hold:
                severity = "high" if sp.max_speed >= 1.5 * limit else "medium"
                self.open("speeding", "speeding", sp.above_ts, self.lat, self.lon, geofence_id=zone, severity=severity,
                          details={"max_speed_kmh": sp.max_speed, "limit_kmh": limit,
                                   "limit_source": "zone" if zone else "default"})
        elif "speeding" in s.open:
            if sp.below_ts is None:
                sp.below_ts = self.t
            if self.t - sp.below_ts >= hold:
                self.close("speeding", sp.below_ts, max_speed_kmh=sp.max_speed)
                sp.above_ts = sp.below_ts = None
        else:
            sp.above_ts = None

    def night(self) -> None:
        s, cfg = self.s, self.cfg
        in_window = in_minutes(self.t, cfg.night_from_min, cfg.night_to_min)
        if "night_driving" in s.open:
            if not in_window:
                end = local_midnight(self.t) + cfg.night_to_min * 60_000
                self.close("night_driving", end if end <= self.t else self.t)
            elif s.stopped:
                self.close("night_driving", s.stop.anchor_ts)
            return
        if in_window and not s.stopped and not any(g.is_expressway for g in self.zones):
            self.open("night_driving", "night_driving", self.t, self.lat, self.lon)

    def fatigue(self) -> None:
        s, driving, cfg = self.s, self.s.driving, self.cfg
        if s.stopped:
            return
        if driving.drive_start_ts is None:
            driving.drive_start_ts = self.t
        elif s.last_ts is not None and in_minutes(s.last_ts, cfg.fatigue_night_from_min, cfg.fatigue_night_to_min):
            driving.night_drive_ms += self.t - s.last_ts
        if "fatigue_driving" in s.open:
            return  # open until a rest: nothing to count (the details are built only to open)
        driven = self.t - driving.drive_start_ts
        if driven >= cfg.fatigue_s * 1000 or driving.night_drive_ms >= cfg.fatigue_night_s * 1000:
            self.open("fatigue_driving", "fatigue_driving", driving.drive_start_ts, self.lat, self.lon,
                      details={"driving_s": driven // 1000,
                               "night_driving_s": driving.night_drive_ms // 1000})

    def route(self) -> None:
        s, route, cfg = self.s, self.s.route, self.cfg
        waybill = self.waybill
        if waybill is None:
            if "route_deviation" in s.open:
                self.close("route_deviation", self.t)
            route.deviation_ts = None
            return
        distance = waybill.distance_from_route_m(self.lat, self.lon)
        if "route_deviation" in s.open:
            if round(distance, 1) > s.open["route_deviation"].details["distance_m"]:
                self.note("route_deviation", distance_m=round(distance, 1))
            if distance <= cfg.deviation_close_m:
                self.close("route_deviation", self.t)
                route.deviation_ts = None
        elif distance > cfg.deviation_open_m:
            if route.deviation_ts is None:
                route.deviation_ts = self.t
            if self.t - route.deviation_ts >= cfg.deviation_s * 1000:
                self.open("route_deviation", "route_deviation", route.deviation_ts, self.lat, self.lon,
                          waybill_id=waybill.id,
                          details={"distance_m": round(distance, 1), "open_m": cfg.deviation_open_m,
                                   "waybill": waybill_details(waybill, self.t)})
        else:
            route.deviation_ts = None


def stop_centre(stop_fixes: list[int]) -> tuple[float, float]:
    """The coordinate-wise median of a stop's sampled fixes (an odd number of them, so a
    true middle). Within r of the true place whenever the fixes scatter within r of it:
    more than half the fixes lie on each side of each median, so some fix lies beyond
    both, and it is within r."""
    n = len(stop_fixes) // 2
    n -= 1 - n % 2  # odd
    lats, lons = sorted(stop_fixes[0:2 * n:2]), sorted(stop_fixes[1:2 * n:2])
    return lats[n // 2] / 1e6, lons[n // 2] / 1e6


def is_jump(lat: float, lon: float, ts: int, fix: dict, cfg: RuleConfig) -> tuple[bool, float, float]:
    """Is `fix` impossible to reach from (lat, lon) at ts? With the distance and implied speed."""
    if surely_within_m(lat, lon, fix["lat"], fix["lon"], cfg.jump_min_m):
        return False, 0.0, 0.0
    distance = haversine_m(lat, lon, fix["lat"], fix["lon"])
    seconds = max((fix["ts"] - ts) / 1000, 0.001)
    implied = distance / seconds * 3.6
    return distance > cfg.jump_min_m and implied > cfg.jump_speed_kmh, distance, implied


def _agrees(earlier: dict | None, fix: dict, cfg: RuleConfig) -> bool:
    """Is `fix` a later fix reachable from `earlier`? (A terminal's resent copy of the jumping
    fix, same time, confirms nothing.)"""
    return (earlier is not None and fix["ts"] > earlier["ts"]
            and not is_jump(earlier["lat"], earlier["lon"], earlier["ts"], fix, cfg)[0])


def confirmed_by(state: VehicleState, fix: dict, cfg: RuleConfig) -> dict | None:
    """The fix kept out as a jump that `fix` (not yet stepped) confirms, if any: it belongs
    in the stored track after all, so that a replay of the track decides as this pass did."""
    earlier = state.jump.unconfirmed  # set only once there is a last fix
    if earlier is None or fix["ts"] <= state.last_ts:
        return None
    jump = is_jump(state.last_lat, state.last_lon, state.last_ts, fix, cfg)[0]
    return earlier if jump and _agrees(earlier, fix, cfg) else None


def step(state: VehicleState, fix: dict, zones: frozenset[str], ctx: Context) -> list[Event]:
    """Apply one fix (Step.run says what each kind of fix does)."""
    return Step(state, fix, zones, ctx).run()


def incident_gone(incident_id: str, ctx: Context) -> bool:
    """Has the incident closed? Its zones are no longer among the geofences."""
    return not any(incident_zone_id(incident_id, z) in ctx.geofences for z in INCIDENT_ZONES)


def tick(state: VehicleState, now_ms: int, ctx: Context) -> list[Event]:
    """Advance one state's timers to `now_ms` (Clock says which)."""
    return Clock(state, now_ms, ctx).run()
