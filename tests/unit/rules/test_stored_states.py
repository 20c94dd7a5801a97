"""States stored by the version before per-rule parts and Violation values (every rule's
fields flat, open violations as wire dicts with RFC 3339 times) load without losing an
open violation or a timer, and the rules go on from them as that version went on. The
literals are what that version's `VehicleState.snapshot()` wrote (commit ca276fe), the
expected events what it emitted when fed the same fixes after loading them. Their times
are written relative to the Monday 10:00 (Beijing) they were recorded at (`@ms<offset>`,
`"@iso<offset>"`) and put back at the last Monday 10:00 before now, so the states are a
week or so old whenever the test runs, at the same hour of the same weekday."""
from __future__ import annotations

import re
import time

import orjson

from streams.rules.state import VehicleState
from streams.rules.violations import Violation, cloud_event, open_violation
from streams.times import rfc3339
from tests.unit.rules.harness import MONDAY_10, Run, drive, square
from tests.unit.rules.test_incident_zone import chlorine_zones

WEEK_MS = 7 * 86_400_000
T = MONDAY_10 + (int(time.time() * 1000) - MONDAY_10) // WEEK_MS * WEEK_MS  # the last Monday 10:00 before now


def at(offset_ms: int) -> str:
    """T + offset as the wire writes times."""
    return rfc3339(T + offset_ms)


def as_stored(template: str) -> str:
    """A state as that version stored it, its times put back at T."""
    text = re.sub(r"@iso(\d+)", lambda m: at(int(m.group(1))), template)
    return re.sub(r"@ms(\d+)", lambda m: str(T + int(m.group(1))), text)


# Speeding along a restricted road with terminal faults, a gps_jump kept out, then silent: offline.
DRIVING = ('{"plate":"P1","carrier_id":"C1","last_ts":@ms130000,"last_lat":29.9,"last_lon":121.82383346926858,"l'
           'ast_speed":80.0,"anchor_ts":null,"anchor_lat":29.89972868848011,"anchor_lon":121.8,"stop_fixes":[],"'
           'stop_judged":0,"drive_start_ts":@ms30000,"night_drive_ms":0,"above_ts":@ms20000,"below_ts":null,"max'
           '_speed":80.0,"deviation_ts":null,"restricted":{"road":[@ms20000,12,0]},"incidents":{},"open":{"restr'
           'icted_road:road":{"violation_id":"v-eacc38efb7957d90d440c9bf","kind":"restricted_road","plate":"P1",'
           '"carrier_id":"C1","status":"open","started_at":"@iso20000","ended_at":null,"lat":29.9,"lon":121.8023'
           '0275065396,"geofence_id":"road","waybill_id":null,"severity":"high","agencies":["police","emergency"'
           '],"details":{"geofence_name":"road","ban_window":null,"always_banned":true}},"speeding":{"violation_'
           'id":"v-4318f517826719326b990777","kind":"speeding","plate":"P1","carrier_id":"C1","status":"open","s'
           'tarted_at":"@iso20000","ended_at":null,"lat":29.9,"lon":121.8069082519619,"geofence_id":null,"waybil'
           'l_id":null,"severity":"medium","agencies":["police"],"details":{"max_speed_kmh":80.0,"limit_kmh":60.'
           '0,"limit_source":"default"}},"terminal_fault":{"violation_id":"v-7b09dce3f676572b86329f01","kind":"t'
           'erminal_fault","plate":"P1","carrier_id":"C1","status":"open","started_at":"@iso20000","ended_at":nu'
           'll,"lat":29.9,"lon":121.81381650392382,"geofence_id":null,"waybill_id":null,"severity":"medium","age'
           'ncies":["transport"],"details":{"alarms":["gnss_module_fault","gnss_antenna_cut","gnss_antenna_short'
           '","main_power_low","main_power_lost"]}},"offline":{"violation_id":"v-a9dd5e9f69ee591ad68184d3","kind'
           '":"offline","plate":"P1","carrier_id":"C1","status":"open","started_at":"@iso130000","ended_at":null'
           ',"lat":29.9,"lon":121.82383346926858,"geofence_id":null,"waybill_id":null,"severity":"medium","agenc'
           'ies":["transport"],"details":{"last_speed_kmh":80.0,"silence_reached_at":"@iso1330000","because":"la'
           'st_fix_moving","waybill":null}}},"unconfirmed":{"plate":"P1","carrier_id":"C1","ts":@ms140000,"lat":'
           '29.9,"lon":122.21449511771453,"speed_kmh":80.0,"heading_deg":0},"late_fixes":0,"checkpoint_ts":null,'
           '"collision_ts":null,"fault_ts":@ms20000,"fault_bits":496,"fault_clear_ts":null,"safety_ts":{"adas:fo'
           'rward_collision":@ms130000}}')
# Parked 16 min inside an incident's isolation zone: illegal_parking and incident_zone_entry.
PARKED = ('{"plate":"P1","carrier_id":"C1","last_ts":@ms960000,"last_lat":29.899716760634576,"last_lon":121.800'
          '02733407933,"last_speed":0.0,"anchor_ts":@ms0,"anchor_lat":29.89972868848011,"anchor_lon":121.8,"sto'
          'p_fixes":[29899729,121800000,29899715,121800031,29899732,121799992,29899741,121799971,29899722,12180'
          '0015,29899718,121800025,29899738,121799978,29899737,121799981,29899717,121800027,29899723,121800012,'
          '29899742,121799970,29899731,121799995,29899715,121800031,29899730,121799997,29899742,121799970],"sto'
          'p_judged":3,"drive_start_ts":null,"night_drive_ms":0,"above_ts":null,"below_ts":null,"max_speed":0.0'
          ',"deviation_ts":null,"restricted":{},"incidents":{"i-1":[@ms0,17,0]},"open":{"incident_zone_entry:i-'
          '1":{"violation_id":"v-382820fa5f4cf1cbfbad24f9","kind":"incident_zone_entry","plate":"P1","carrier_i'
          'd":"C1","status":"open","started_at":"@iso0","ended_at":null,"lat":29.899715235975766,"lon":121.8000'
          '3082801667,"geofence_id":"incident:i-1:isolation","waybill_id":null,"severity":"high","agencies":["p'
          'olice","emergency"],"details":{"incident_id":"i-1","zone":"isolation","un_number":"1017","distance_m'
          '":31.8}},"illegal_parking":{"violation_id":"v-874e8408fa14a3fd54552472","kind":"illegal_parking","pl'
          'ate":"P1","carrier_id":"C1","status":"open","started_at":"@iso0","ended_at":null,"lat":29.89973,"lon'
          '":121.799997,"geofence_id":null,"waybill_id":null,"severity":"medium","agencies":["police"],"details'
          '":{"centre":{"lat":29.89973,"lon":121.799997},"centre_of_fixes":15,"edge_tolerance_m":25.0,"nearest_'
          'allowed":null,"waybill":null}}},"unconfirmed":null,"late_fixes":0,"checkpoint_ts":null,"collision_ts'
          '":null,"fault_ts":null,"fault_bits":0,"fault_clear_ts":null,"safety_ts":{}}')


def _run(stored: str) -> Run:
    run = Run([square("road", "restricted_road", -20, -20, 5000, 20), *chlorine_zones()])
    run.state = VehicleState.from_json(orjson.loads(as_stored(stored)))
    return run


def _events(run: Run) -> list[tuple]:
    return [(cloud_event(t, v)["id"], v["ended_at"], v["details"]["duration_s"], v["details"].get("max_speed_kmh"),
             v["details"].get("closed_because")) for t, v in run.events]


def test_a_flat_state_keeps_its_open_violations_and_timers():
    state = _run(DRIVING).state
    assert sorted(state.open) == ["offline", "restricted_road:road", "speeding", "terminal_fault"]
    speeding = state.open["speeding"]
    assert isinstance(speeding, Violation) and speeding.started_ms == T + 20_000 and speeding.ended_ms is None
    assert speeding.wire() == orjson.loads(as_stored(DRIVING))["open"]["speeding"]
    assert state.status == "offline" and state.last_ts == T + 130_000
    assert (state.speeding.above_ts, state.speeding.max_speed) == (T + 20_000, 80.0)
    assert (state.signals.fault_ts, state.signals.fault_bits) == (T + 20_000, 496)
    assert state.signals.safety_ts == {"adas:forward_collision": T + 130_000}
    assert state.driving.drive_start_ts == T + 30_000 and state.restricted == {"road": [T + 20_000, 12, 0]}
    assert state.jump.unconfirmed["ts"] == T + 140_000
    parked = _run(PARKED).state
    assert sorted(parked.open) == ["illegal_parking", "incident_zone_entry:i-1"]
    assert parked.stop.anchor_ts == T and len(parked.stop.stop_fixes) == 30 and parked.stop.stop_judged == 3
    assert parked.incidents == {"i-1": [T, 17, 0]} and parked.status == "stopped"


def test_the_rules_go_on_from_a_flat_state_as_the_version_that_stored_it_did():
    run = _run(DRIVING)
    back = T + 130_000 + 30 * 60_000  # back 30 min later, slow, no alarm bits, off the road
    run.feed(*[{**f, "alarm_flags": 0} for f in drive(back, 120, speed=30.0, east0=2400, north_m=200)])
    assert _events(run) == [
        ("v-a9dd5e9f69ee591ad68184d3.closed", at(1_930_000), 1800, None, None),
        ("v-eacc38efb7957d90d440c9bf.closed", at(1_940_000), 1920, None, None),
        ("v-4318f517826719326b990777.closed", at(1_930_000), 1910, 80.0, None),
        ("v-7b09dce3f676572b86329f01.closed", at(1_930_000), 1910, None, None)]
    run = _run(PARKED)
    run.feed(*drive(T + 17 * 60_000, 60, speed=40.0, north_m=-30))  # drives off
    assert _events(run) == [
        ("v-874e8408fa14a3fd54552472.closed", at(1_030_000), 1030, None, None),
        ("v-382820fa5f4cf1cbfbad24f9.closed", at(1_050_000), 1050, None, "left")]


def test_a_state_round_trips_and_stays_small():
    for stored in (DRIVING, PARKED):
        state = _run(stored).state
        again = VehicleState.from_json(orjson.loads(state.snapshot()))
        assert again == state and again.snapshot() == state.snapshot()
        # The parts' names cost some bytes, the epoch-ms times of the open violations save some.
        assert len(state.snapshot()) < len(as_stored(stored)) + 64


def test_a_violation_is_a_value_whose_wire_form_is_the_contracts():
    opened = open_violation("speeding", "P1", "C1", T, 29.9, 121.8, details={"max_speed_kmh": 70.0})
    noted = opened.noted(max_speed_kmh=75.0)
    assert opened.details == {"max_speed_kmh": 70.0} and noted.details == {"max_speed_kmh": 75.0}
    wire = noted.wire()
    assert list(wire) == ["violation_id", "kind", "plate", "carrier_id", "status", "started_at", "ended_at", "lat",
                          "lon", "geofence_id", "waybill_id", "severity", "agencies", "details"]
    assert wire["started_at"] == at(0) and wire["ended_at"] is None
    assert Violation.from_wire(wire) == noted
