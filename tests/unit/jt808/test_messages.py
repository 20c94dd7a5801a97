"""Register, authenticate, responses and the 0x8003 request, against the public frames."""
from __future__ import annotations

from dataclasses import replace

import pytest

from tests.unit.jt808.support import GOOD, QUIRKS, expected, wire
from tracker.jt808 import DecodeError, decode
from tracker.jt808.messages import (
    NO_SUCH_TERMINAL, OK, RetransmitRequest, decode_auth, decode_empty, decode_general_response, decode_register,
    encode_general_response, encode_register_response,
)


def by_msg(msg_id: str) -> list[dict]:
    return [v for v in GOOD + QUIRKS if v["msg_id"] == msg_id]


@pytest.mark.parametrize("vector", by_msg("0x0100"), ids=lambda v: v["id"])
def test_register(vector):
    want = expected(vector)["body"]
    reg = decode_register(decode(bytes.fromhex(vector["hex"])))
    assert (reg.province, reg.city, reg.maker, reg.model, reg.terminal_id, reg.plate_color, reg.plate,
            reg.layout) == (want["province_id"], want["city_id"], want["maker_id"], want["terminal_model"],
                            want["terminal_id"], want["plate_color"], want["plate_no"], want["layout"])


def test_a_registration_too_short_for_any_layout_is_refused():
    frame = decode(wire("0100_go_2011"))
    with pytest.raises(DecodeError) as refused:
        decode_register(replace(frame, body=frame.body[:24]))
    assert refused.value.reason == "bad_body_length"


@pytest.mark.parametrize("vector", by_msg("0x0102"), ids=lambda v: v["id"])
def test_auth(vector):
    want = expected(vector)["body"]
    auth = decode_auth(decode(bytes.fromhex(vector["hex"])))
    assert (auth.code, auth.imei, auth.software_version) == (want["auth_code"], want.get("imei"),
                                                             want.get("software_version"))


def test_a_2019_auth_whose_code_length_disagrees_is_refused():
    frame = decode(wire("0102_go_2019"))
    with pytest.raises(DecodeError) as refused:
        decode_auth(replace(frame, body=b"\x0c" + frame.body[1:]))
    assert refused.value.reason == "bad_body_length"


@pytest.mark.parametrize("vector", by_msg("0x8100"), ids=lambda v: v["id"])
def test_register_response_body(vector):
    want = expected(vector)["body"]
    body = encode_register_response(want["ack_serial_no"], want["result"], want.get("auth_code"))
    assert body == decode(bytes.fromhex(vector["hex"])).body


def test_a_successful_registration_needs_a_code_and_a_refusal_sends_none():
    with pytest.raises(ValueError):
        encode_register_response(1, OK, None)
    assert encode_register_response(0x0102, NO_SUCH_TERMINAL, "ignored") == b"\x01\x02\x04"


@pytest.mark.parametrize("vector", by_msg("0x8001") + by_msg("0x0001"), ids=lambda v: v["id"])
def test_general_responses(vector):
    want = expected(vector)["body"]
    frame = decode(bytes.fromhex(vector["hex"]))
    response = decode_general_response(frame)
    assert (response.reply_serial, response.reply_msg_id, response.result) == (
        want["ack_serial_no"], int(want["ack_msg_id"], 16), want["result"])
    assert encode_general_response(*[getattr(response, f) for f in response.__slots__]) == frame.body


def test_heartbeats_are_empty_and_a_body_is_refused():
    for vector in by_msg("0x0002"):
        assert decode_empty(decode(bytes.fromhex(vector["hex"]))) is None
    frame = decode(wire("0002_go_2013"))
    with pytest.raises(DecodeError) as refused:
        decode_empty(replace(frame, body=b"\x00"))
    assert refused.value.reason == "unexpected_body"


def test_retransmit_request_count_is_a_byte_in_2013_and_a_word_in_2019():
    request = RetransmitRequest(1233, (2, 5))
    assert request.encode("2013").hex() == "04d102" "0002" "0005"
    assert request.encode("2019").hex() == "04d10002" "0002" "0005"
    with pytest.raises(ValueError):
        RetransmitRequest(1, tuple(range(1, 257))).encode("2013")
