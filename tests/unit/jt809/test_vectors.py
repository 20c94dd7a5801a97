"""Frames and bodies from public suites (tests/data/jt809/vectors.json) decode to what
their sources assert, and encode back byte for byte where the suite has both sides."""
from __future__ import annotations

import pytest

from tests.unit.jt809.support import BODIES, FRAMES, beijing_ms, frame_of, keys_of
from tracker.jt809 import CodecError, decode, encode, login_version
from tracker.jt809.alarms import ALARM_REPORT, AlarmReport, decode_alarm, encode_alarm
from tracker.jt809.messages import (
    Login, decode_empty, decode_login, decode_login_response, encode_login, encode_login_response,
)
from tracker.jt809.positions import decode_positions, encode_backfill, encode_real_time
from tracker.jt809.vehicle import decode_envelope, decode_registration, encode_envelope, encode_registration

BY_ID = {vector["id"]: vector for vector in FRAMES + BODIES}


def decoded(vector):
    return decode(bytes.fromhex(vector["hex"]), vector["version"], keys_of(vector))


@pytest.mark.parametrize("vector", FRAMES, ids=lambda v: v["id"])
def test_frame_header_and_quirks(vector):
    frame = decoded(vector)
    header = vector["header"]
    assert (f"0x{frame.msg_id:04x}", frame.serial, frame.access_code, frame.version_flag.hex(), frame.encrypted,
            frame.key, frame.time_s) == (header["msg_id"], header["serial"], header["access_code"],
                                         header["version_flag"], header["encrypted"], header["key"],
                                         header["time_s"])
    assert list(frame.quirks) == vector["quirks"]
    body = vector["body"]
    if "plain_body_prefix" in body:
        assert frame.body.hex().startswith(body["plain_body_prefix"])
    if "unescaped_length" in body:
        assert len(frame.body) + frame_header_size(frame) + 4 == body["unescaped_length"]


def frame_header_size(frame):
    return 22 if frame.version == "2011" else 30


def body_value(frame, kind):
    if kind == "login":
        login = decode_login(frame)
        return {"kind": kind, "user_id": login.user_id, "password": login.password,
                "down_link_ip": login.down_link_ip, "down_link_port": login.down_link_port,
                "access_code": login.access_code}
    if kind == "registration":
        reg = decode_registration(frame)
        return {"kind": kind, "plate": reg.plate, "colour": reg.colour, "platform_id": reg.platform_id,
                "producer_id": reg.producer_id, "terminal_model": reg.terminal_model, "imei": reg.imei,
                "terminal_id": reg.terminal_id, "sim": reg.sim}
    if kind == "alarm":
        alarm = decode_alarm(frame)
        return {"kind": kind, "source_platform": alarm.source_platform, "warn_type": alarm.warn_type,
                "warn_time_s": alarm.warn_time_s, "start_s": alarm.start_s, "end_s": alarm.end_s,
                "plate": alarm.plate, "colour": alarm.colour, "target_platform": alarm.target_platform,
                "line_id": alarm.line_id, "info": alarm.info}
    decode_empty(frame)
    return {"kind": kind}


@pytest.mark.parametrize("vector", [v for v in FRAMES if v["body"]["kind"] in ("login", "registration", "alarm",
                                                                                 "empty")], ids=lambda v: v["id"])
def test_frame_body(vector):
    assert body_value(decoded(vector), vector["body"]["kind"]) == vector["body"]


@pytest.mark.parametrize("vector", [v for v in FRAMES if v["reencode"]], ids=lambda v: v["id"])
def test_frame_reencodes_byte_exact(vector):
    frame = decoded(vector)
    kind = vector["body"]["kind"]
    if kind == "login":
        body = encode_login(decode_login(frame), frame.version)
    elif kind == "registration":
        body = encode_registration(decode_registration(frame), frame.version)
    elif kind == "alarm":
        body = encode_alarm(decode_alarm(frame), frame.version)
    else:
        body = frame.body
    wire = encode(frame.msg_id, body, version=frame.version, serial=frame.serial, access_code=frame.access_code,
                  time_s=frame.time_s, version_flag=frame.version_flag, keys=keys_of(vector), key=frame.key)
    assert wire.hex() == vector["hex"].lower()


def test_real_provincial_position_decodes_with_its_quirks():
    vector = BY_ID["guojian_2019_6"]
    expected = vector["body"]
    [position] = decode_positions(decoded(vector))
    assert (position.plate, position.colour, position.ts_ms, position.lat, position.lon, position.speed_kmh,
            position.heading_deg, position.alt_m, position.alarm_flags, position.status_flags, position.mileage_km,
            position.gcj02, list(position.quirks)) == (
        expected["plate"], expected["colour"], beijing_ms(expected["time_beijing"]), expected["lat"],
        expected["lon"], expected["speed_kmh"], expected["heading_deg"], expected["alt_m"],
        expected["alarm_flags"], expected["status_flags"], expected["mileage_km"], expected["gcj02"],
        expected["quirks"])


def test_login_version_is_read_off_the_login_length():
    assert login_version(bytes.fromhex(BY_ID["smallchi_2011_1001_login"]["hex"])) == "2011"
    login = Login(20180920, "20180920", "127.0.0.1", 809, 44555555)
    wire = encode(0x1001, encode_login(login, "2019"), version="2019", serial=1, access_code=44555555, time_s=0)
    assert login_version(wire) == "2019"
    with pytest.raises(CodecError) as refused:
        login_version(bytes.fromhex(BY_ID["ch0ice_2011_1005_heartbeat"]["hex"]))
    assert refused.value.reason == "unknown_version"


def envelope_frame(vector):
    """A 0x1200 frame around a sub body from the suites (which test sub bodies alone)."""
    body = encode_envelope(int(vector["sub_type"], 16), bytes.fromhex(vector["hex"]), "浙B12345", 2)
    return frame_of(0x1200, body, vector["version"])


@pytest.mark.parametrize("vector_id", ["smallchi_2011_1202", "smallchi_2011_1203"])
def test_2011_positions(vector_id):
    vector = BY_ID[vector_id]
    frame = envelope_frame(vector)
    positions = decode_positions(frame)
    assert [(p.ts_ms, round(p.lon * 1e6), round(p.lat * 1e6), p.speed_kmh, p.recorder_speed_kmh, p.mileage_km,
             p.heading_deg, p.alt_m, p.status_flags, p.alarm_flags, p.gcj02) for p in positions] == [
        (beijing_ms(e["time_beijing"]), e["lon_raw"], e["lat_raw"], e["vec1"], e["vec2"], e["vec3"], e["direction"],
         e["altitude"], e["state"], e["alarm"], bool(e["encrypt"])) for e in vector["expected"]]
    again = encode_real_time(positions[0], "2011") if len(positions) == 1 else encode_backfill(positions, "2011")
    assert again == frame.body


def test_2019_position_with_an_embedded_0200_body():
    vector = BY_ID["smallchi_2019_1202_with_0200"]
    frame = envelope_frame(vector)
    [p] = decode_positions(frame)
    [e] = vector["expected"]
    assert (p.gcj02, p.alarm_flags, p.status_flags, round(p.lat * 1e6), round(p.lon * 1e6), p.alt_m, p.speed_kmh,
            p.heading_deg, p.ts_ms, p.mileage_km, p.items[0x02], [list(pair) for pair in p.platform_alarms]) == (
        bool(e["encrypt"]), e["alarm_flags"], e["status_flags"], e["lat_raw"], e["lon_raw"], e["alt_m"],
        e["speed_raw"] / 10, e["heading_deg"], beijing_ms(e["time_beijing"]), e["mileage_raw"] / 10,
        e["oil_raw"].to_bytes(2, "big"), e["platforms"])
    assert encode_real_time(p, "2019") == frame.body


def test_2019_position_without_gnss_data_is_refused():
    with pytest.raises(CodecError) as refused:
        decode_positions(envelope_frame(BY_ID["smallchi_2019_1202_empty_gnss"]))
    assert refused.value.reason == "bad_gnss"


@pytest.mark.parametrize("vector_id", ["smallchi_2011_1402", "smallchi_2019_1402"])
def test_alarm_bodies(vector_id):
    vector = BY_ID[vector_id]
    version = vector["version"]
    plate = ("浙B12345", 2) if version == "2011" else (None, None)
    frame = frame_of(0x1400, encode_envelope(ALARM_REPORT, bytes.fromhex(vector["hex"]), *plate), version)
    alarm = decode_alarm(frame)
    [e] = vector["expected"]
    assert {name: getattr(alarm, name) for name in e} == e
    assert isinstance(alarm, AlarmReport)
    assert encode_alarm(alarm, version) == frame.body


def test_login_response_body():
    vector = BY_ID["smallchi_1002"]
    response = decode_login_response(frame_of(0x1002, bytes.fromhex(vector["hex"]), "2011"))
    assert (response.result, response.verify_code) == (0, 54456)
    assert encode_login_response(response.result, response.verify_code).hex() == vector["hex"].lower()


def test_2019_login_body():
    vector = BY_ID["smallchi_2019_1001_body"]
    login = decode_login(frame_of(0x1001, bytes.fromhex(vector["hex"]), "2019"))
    [e] = vector["expected"]
    assert {name: getattr(login, name) for name in e} == e
    assert encode_login(login, "2019").hex() == vector["hex"].lower()


def test_2011_registration_envelope():
    vector = BY_ID["smallchi_2011_1200_1201"]
    frame = frame_of(0x1200, bytes.fromhex(vector["hex"]), "2011")
    assert decode_envelope(frame.body).sub_type == 0x1201
    reg = decode_registration(frame)
    [e] = vector["expected"]
    assert {name: getattr(reg, name) for name in e} == e
    assert reg.imei is None
    assert encode_registration(reg, "2011") == frame.body
