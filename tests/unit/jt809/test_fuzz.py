"""Whatever arrives, the codec answers with a value or a CodecError, nothing else:
random bytes, mutated good frames, 4 GB length fields, half frames, broken bodies.
`make fuzz` raises the budget (HAZMAT_FUZZ_EXAMPLES)."""
from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.jt809 import strategies as gen
from tests.unit.jt809.support import FRAMES, FUZZ, FUZZ_TIMEOUT_S, KEYS, frame_of, keys_of
from tracker.jt809 import CodecError, FrameReader, decode, login_version
from tracker.jt809 import messages as m
from tracker.jt809.alarms import decode_alarm, encode_alarm
from tracker.jt809.framing import crc16, escape, unescape_lenient
from tracker.jt809.positions import decode_positions, encode_backfill, encode_real_time
from tracker.jt809.vehicle import decode_registration, encode_registration

pytestmark = pytest.mark.timeout(FUZZ_TIMEOUT_S)
WIRES = [(bytes.fromhex(v["hex"]), v["version"], keys_of(v)) for v in FRAMES]
BODY_DECODERS = {
    m.LOGIN: [m.decode_login], m.LOGIN_RESPONSE: [m.decode_login_response], m.LOGOUT: [m.decode_logout],
    m.HEARTBEAT: [m.decode_empty], m.SLAVE_LOGIN: [m.decode_slave_login],
    m.SLAVE_LOGIN_RESPONSE: [m.decode_slave_login_response], m.DYNAMIC: [decode_positions, decode_registration],
    m.ALARM: [decode_alarm],
}
ANY_KEYS = st.sampled_from([None, *KEYS.values()])


def decode_everything(wire: bytes, version: str, keys) -> None:
    """What a link does with a frame; only CodecError may escape, with a reason and detail."""
    try:
        frame = decode(wire, version, keys)
        for decoder in BODY_DECODERS.get(frame.msg_id, []):
            try:
                decoder(frame)
            except CodecError as error:
                assert error.reason and error.detail
    except CodecError as error:
        assert error.reason and error.detail


@FUZZ
@given(st.binary(max_size=600), st.booleans(), gen.VERSIONS, ANY_KEYS)
def test_arbitrary_bytes(data, framed, version, keys):
    decode_everything(b"\x5b" + data + b"\x5d" if framed else data, version, keys)
    try:
        login_version(data)
    except CodecError:
        pass


def mutated(wire: bytes, draw) -> bytes:
    data = bytearray(wire)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        kind = draw(st.sampled_from(["flip", "truncate", "insert", "delete"]))
        if kind == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "truncate":
            del data[at:]
        elif kind == "insert":
            data.insert(at, draw(st.integers(0, 255)))
        elif data:
            del data[at]
    return bytes(data)


@FUZZ
@given(st.sampled_from(WIRES), st.data())
def test_mutated_good_frames(vector, data):
    wire, version, keys = vector
    decode_everything(mutated(wire, data.draw), version, keys)


@FUZZ
@given(st.sampled_from(WIRES), st.data())
def test_half_frames_are_refused_and_held_by_the_reader(vector, data):
    wire, version, keys = vector
    cut = data.draw(st.integers(1, len(wire) - 1))
    with pytest.raises(CodecError):
        decode(wire[:cut], version, keys)
    reader = FrameReader()
    assert reader.feed(wire[:cut]) == [] and reader.buffered == cut - 1
    assert reader.feed(wire[cut:]) == [wire]


def reframed(wire: bytes, patch) -> bytes:
    """The frame with its unescaped content patched and a correct CRC again."""
    content = bytearray(unescape_lenient(wire[1:-1])[:-2])
    patch(content)
    return b"\x5b" + escape(bytes(content) + crc16(bytes(content)).to_bytes(2, "big")) + b"\x5d"


@FUZZ
@given(st.sampled_from(WIRES), st.sampled_from([0, 1, 0x7FFFFFFF, 0xFFFFFFFE, 0xFFFFFFFF]))
def test_huge_msg_length(vector, length):
    wire, version, keys = vector
    patched = reframed(wire, lambda content: content.__setitem__(slice(0, 4), struct.pack(">I", length)))
    with pytest.raises(CodecError) as refused:
        decode(patched, version, keys)
    assert refused.value.reason == "length_field_mismatch"


@FUZZ
@given(gen.VERSIONS, st.data(), st.sampled_from([0xFFFFFFFF, 0x80000000, 1 << 20]))
def test_huge_inner_lengths(version, data, huge):
    """The 0x1200 DATA_LENGTH, the 2019 GNSS length and the 0x1402 INFO_LENGTH at 4 GB."""
    position = data.draw(gen.positions(version))
    body = bytearray(encode_real_time(position, version))
    body[24:28] = struct.pack(">I", huge)  # the envelope's DATA_LENGTH
    cases = [bytes(body)]
    if version == "2019":
        body = bytearray(encode_real_time(position, version))
        body[29:33] = struct.pack(">I", huge)  # the record's GNSS length
        cases.append(bytes(body))
    alarm = bytearray(encode_alarm(data.draw(gen.alarms(version)), version))
    info_at = (28 + 15) if version == "2011" else (6 + 37 + 21 + 16)
    alarm[info_at:info_at + 4] = struct.pack(">I", huge)
    for case, decoder, msg_id in [*((c, decode_positions, m.DYNAMIC) for c in cases),
                                  (bytes(alarm), decode_alarm, m.ALARM)]:
        with pytest.raises(CodecError) as refused:
            decoder(frame_of(msg_id, case, version))
        assert refused.value.reason == "bad_body_length"


@FUZZ
@given(st.sampled_from(sorted(BODY_DECODERS)), st.binary(max_size=300), gen.VERSIONS)
def test_arbitrary_bodies(msg_id, body, version):
    for decoder in BODY_DECODERS[msg_id]:
        try:
            decoder(frame_of(msg_id, body, version))
        except CodecError:
            pass


@st.composite
def good_bodies(draw):
    version = draw(gen.VERSIONS)
    kind = draw(st.sampled_from(["real_time", "backfill", "registration", "alarm"]))
    if kind == "real_time":
        return version, m.DYNAMIC, encode_real_time(draw(gen.positions(version)), version)
    if kind == "backfill":
        return version, m.DYNAMIC, encode_backfill(draw(st.lists(gen.positions(version), min_size=1, max_size=3)),
                                                   version)
    if kind == "registration":
        return version, m.DYNAMIC, encode_registration(draw(gen.registrations(version)), version)
    return version, m.ALARM, encode_alarm(draw(gen.alarms(version)), version)


@FUZZ
@given(good_bodies(), st.data())
def test_mutated_good_bodies(spec, data):
    version, msg_id, body = spec
    broken = mutated(body, data.draw)
    for decoder in BODY_DECODERS[msg_id]:
        try:
            decoder(frame_of(msg_id, broken, version))
        except CodecError:
            pass


@FUZZ
@given(st.lists(st.binary(max_size=200) | st.sampled_from([w for w, _, _ in WIRES]), max_size=8))
def test_the_reader_takes_any_stream(chunks):
    reader = FrameReader(max_frame_bytes=256, max_buffer_bytes=1024)
    for chunk in chunks:
        for item in reader.feed(chunk):
            assert isinstance(item, bytes) or item.reason in ("too_long", "buffer_limit")
    assert reader.buffered <= 254
