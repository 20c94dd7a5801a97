"""Every message through the whole codec and back, in both versions, with and without
the body cipher: what the server and the upstream client send is what the other reads."""
from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.jt809 import strategies as gen
from tests.unit.jt809.support import FUZZ
from tracker.jt809 import CodecError, decode, encode
from tracker.jt809 import messages as m
from tracker.jt809.alarms import decode_alarm, encode_alarm
from tracker.jt809.positions import Position, decode_positions, encode_backfill, encode_real_time
from tracker.jt809.vehicle import decode_envelope, decode_registration, encode_registration


def through_the_wire(msg_id, body, version, keys, data):
    wire = encode(msg_id, body, version=version, serial=data.draw(gen.U32), access_code=data.draw(gen.U32),
                  time_s=data.draw(st.integers(0, 2**64 - 1)), version_flag=data.draw(st.binary(min_size=3, max_size=3)),
                  keys=keys, key=data.draw(gen.U32))
    frame = decode(wire, version, keys)
    assert (frame.msg_id, frame.encrypted, frame.quirks) == (msg_id, keys is not None, ())
    assert frame.body == body
    return frame


@FUZZ
@given(gen.VERSIONS, gen.KEYS, st.data())
def test_login_and_logout(version, keys, data):
    login = data.draw(gen.logins(version))
    assert m.decode_login(through_the_wire(m.LOGIN, m.encode_login(login, version), version, keys, data)) == login
    logout = data.draw(gen.LOGOUTS)
    assert m.decode_logout(through_the_wire(m.LOGOUT, m.encode_logout(logout), version, keys, data)) == logout


@FUZZ
@given(gen.VERSIONS, gen.KEYS, gen.U8, gen.U32, st.data())
def test_responses_and_slave_link(version, keys, result, code, data):
    frame = through_the_wire(m.LOGIN_RESPONSE, m.encode_login_response(result, code), version, keys, data)
    assert m.decode_login_response(frame) == m.LoginResponse(result, code)
    assert m.decode_slave_login(through_the_wire(m.SLAVE_LOGIN, m.encode_slave_login(code), version, keys,
                                                 data)) == code
    frame = through_the_wire(m.SLAVE_LOGIN_RESPONSE, m.encode_slave_login_response(result), version, keys, data)
    assert m.decode_slave_login_response(frame) == result


@pytest.mark.parametrize("msg_id", [m.HEARTBEAT, m.HEARTBEAT_RESPONSE, m.LOGOUT_RESPONSE, m.SLAVE_HEARTBEAT,
                                    m.SLAVE_HEARTBEAT_RESPONSE])
@pytest.mark.parametrize("version", ["2011", "2019"])
def test_empty_bodies(msg_id, version):
    frame = decode(encode(msg_id, b"", version=version, serial=1, access_code=2, time_s=3), version)
    assert m.decode_empty(frame) is None


@FUZZ
@given(gen.VERSIONS, gen.KEYS, st.data())
def test_registration(version, keys, data):
    reg = data.draw(gen.registrations(version))
    frame = through_the_wire(m.DYNAMIC, encode_registration(reg, version), version, keys, data)
    assert decode_envelope(frame.body).sub_type == 0x1201
    assert decode_registration(frame) == reg


@FUZZ
@given(gen.VERSIONS, gen.KEYS, st.data())
def test_real_time_position(version, keys, data):
    position = data.draw(gen.positions(version))
    frame = through_the_wire(m.DYNAMIC, encode_real_time(position, version), version, keys, data)
    assert decode_positions(frame) == [position]


@FUZZ
@given(gen.VERSIONS, gen.KEYS, st.integers(1, 5), st.data())
def test_backfill(version, keys, count, data):
    batch = [data.draw(gen.positions(version)) for _ in range(count)]
    frame = through_the_wire(m.DYNAMIC, encode_backfill(batch, version), version, keys, data)
    assert decode_positions(frame) == batch


@FUZZ
@given(gen.VERSIONS, gen.KEYS, st.data())
def test_alarm_report(version, keys, data):
    report = data.draw(gen.alarms(version))
    assert decode_alarm(through_the_wire(m.ALARM, encode_alarm(report, version), version, keys, data)) == report


def test_backfill_holds_one_to_five_positions_of_one_vehicle():
    one = Position("浙B12345", 2, 1_700_000_000_000, 29.9, 121.8, 40.0, 90, 5, 0, 2, 1000.0)
    for batch in ([], [one] * 6, [one, replace(one, plate="浙B99999")]):
        with pytest.raises(ValueError):
            encode_backfill(batch, "2011")


@pytest.mark.parametrize(("body", "reason"), [(b"\x00" * 45, "bad_body_length"), (b"", "bad_body_length")])
def test_login_body_must_fit_the_layout(body, reason):
    frame = decode(encode(m.LOGIN, body, version="2011", serial=1, access_code=2), "2011")
    with pytest.raises(CodecError) as refused:
        m.decode_login(frame)
    assert refused.value.reason == reason


def test_values_the_wire_cannot_carry_are_refused_on_encoding():
    with pytest.raises(ValueError):
        m.encode_login(m.Login(1, "123456789", "127.0.0.1", 1), "2011")  # 9-byte password
    with pytest.raises(ValueError):
        m.encode_login(m.Login(1, "1", "127.0.0.1", 1), "2019")  # no access code
    with pytest.raises(ValueError):
        m.encode_login_response(256, 0)
    with pytest.raises(ValueError):
        m.encode_logout(m.Logout(1, "\u20ac\u00e9"))  # no GBK


@FUZZ
@given(gen.VERSIONS, st.floats(), st.floats(), st.floats(), st.integers(-2**70, 2**70), st.integers(-2**40, 2**40),
       st.none() | st.floats())
def test_encoding_any_position_gives_bytes_or_value_error(version, lat, lon, speed, ts_ms, small, mileage):
    position = Position("浙B12345", 2, ts_ms, lat, lon, speed, small, small, small, small, mileage,
                        recorder_speed_kmh=small)
    try:
        encode_real_time(position, version)
    except ValueError:
        pass
