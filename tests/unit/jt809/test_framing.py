"""Escaping, the CRC, and the stream splitter."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.jt809.support import FRAMES, FUZZ
from tracker.jt808.framing import FramingProblem
from tracker.jt809 import CodecError, FrameReader
from tracker.jt809.framing import crc16, escape, unescape

WIRES = [bytes.fromhex(vector["hex"]) for vector in FRAMES]


def crc_bit_by_bit(data: bytes) -> int:
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021 if crc & 0x8000 else crc << 1) & 0xFFFF
    return crc


def test_crc_known_answer():
    assert crc16(b"123456789") == 0x29B1
    assert crc16(b"") == 0xFFFF


@FUZZ
@given(st.binary(max_size=600))
def test_crc_equals_the_bitwise_definition(data):
    assert crc16(data) == crc_bit_by_bit(data)


@pytest.mark.parametrize(("raw", "escaped"), [
    ("5b", "5a01"), ("5a", "5a02"), ("5d", "5e01"), ("5e", "5e02"), ("5a01", "5a0201"), ("5e02", "5e0202"),
    ("005b5d5a5e00", "005a015e015a025e0200"),
])
def test_escape_table(raw, escaped):
    assert escape(bytes.fromhex(raw)).hex() == escaped
    assert unescape(bytes.fromhex(escaped)).hex() == raw


@pytest.mark.parametrize("bad", ["5a", "5a03", "5e00", "005e", "5a5a01"])
def test_an_escape_byte_starting_no_pair_is_refused(bad):
    with pytest.raises(CodecError) as refused:
        unescape(bytes.fromhex(bad))
    assert refused.value.reason == "bad_escape"


@FUZZ
@given(st.binary(max_size=400))
def test_unescape_inverts_escape_and_leaves_no_flag(data):
    escaped = escape(data)
    assert 0x5B not in escaped and 0x5D not in escaped
    assert unescape(escaped) == data


def feed_all(reader: FrameReader, chunks: list[bytes]) -> list:
    return [item for chunk in chunks for item in reader.feed(chunk)]


@FUZZ
@given(st.lists(st.sampled_from(WIRES), min_size=1, max_size=5), st.binary(max_size=8).filter(lambda g: 0x5B not in g),
       st.data())
def test_frames_come_out_whole_however_tcp_cuts_the_stream(frames, garbage, data):
    stream = garbage.join(frames)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=8)))
    chunks = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)])]
    reader = FrameReader()
    assert feed_all(reader, chunks) == frames
    assert reader.discarded_bytes == len(garbage) * (len(frames) - 1)
    assert reader.buffered == 0


def test_a_frame_cut_short_by_a_new_one_is_passed_on_for_refusal():
    good = WIRES[0]
    out = FrameReader().feed(b"\x5b\x01\x02" + good)
    assert out == [b"\x5b\x01\x02", good]


def test_an_over_long_frame_is_skipped_and_the_next_one_read():
    reader = FrameReader(max_frame_bytes=100, max_buffer_bytes=1000)
    out = reader.feed(b"\x5b" + b"\x00" * 200 + b"\x5d" + WIRES[0][:80])
    out += reader.feed(WIRES[0][80:])
    assert isinstance(out[0], FramingProblem) and out[0].reason == "too_long" and len(out[0].raw) == 99
    assert out[1:] == [WIRES[0]]


@pytest.mark.parametrize("opened", [True, False])
def test_no_flag_within_the_buffer_limit_stops_the_reader(opened):
    reader = FrameReader(max_frame_bytes=64, max_buffer_bytes=256)
    out = reader.feed((b"\x5b" if opened else b"") + b"\x01" * 300)
    assert reader.limit and [problem.reason for problem in out] == ["buffer_limit"]
    assert reader.feed(WIRES[0]) == [] and reader.buffered == 0


def test_reader_limits_are_checked():
    with pytest.raises(ValueError):
        FrameReader(max_frame_bytes=2)
