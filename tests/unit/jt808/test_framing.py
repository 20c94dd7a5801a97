"""Escaping and the stream splitter, against the public escape and TCP-stream cases."""
from __future__ import annotations

import pytest

from tests.unit.jt808.support import GOOD, VECTORS, even_hex, wire
from tracker.jt808 import DecodeError, FrameReader, FramingProblem, decode
from tracker.jt808.framing import escape, unescape
from tracker.jt808.messages import decode_general_response

HYLEXUS, TRACCAR = VECTORS["escape_vectors"]


@pytest.mark.parametrize(("raw", "escaped"), HYLEXUS["send_escape"])
def test_escape_matches_the_public_table(raw, escaped):
    assert escape(bytes.fromhex(raw)).hex() == escaped


@pytest.mark.parametrize(("escaped", "raw"), [pair for pair in HYLEXUS["receive_unescape"] if "7d22" not in pair[0]])
def test_unescape_matches_the_public_table(escaped, raw):
    assert unescape(bytes.fromhex(escaped)).hex() == raw


def test_an_unknown_escape_pair_is_refused_not_kept_as_hylexus_does():
    with pytest.raises(DecodeError) as refused:
        unescape(bytes.fromhex("7d2200000000"))
    assert refused.value.reason == "bad_escape"


def test_traccar_frame_example():
    assert unescape(bytes.fromhex(TRACCAR["wire"])[1:-1]) == bytes.fromhex(TRACCAR["unescaped"])[1:-1]


def test_a_checksum_that_is_7e_travels_escaped():
    frame = wire("0002_smallchi_2013_escaped_checksum")
    assert frame.endswith(b"\x7d\x02\x7e")
    assert decode(frame).quirks == ()


@pytest.mark.parametrize("case", VECTORS["stream_vectors"], ids=lambda c: c["name"])
def test_stream_cases(case):
    reader = FrameReader()
    parts = case.get("input_parts") or [case["input"]]
    frames = [frame for part in parts for frame in reader.feed(even_hex(part))]
    assert [frame.hex() for frame in frames] == case["frames"]
    for frame, check in zip(frames, case["frame_check"], strict=True):
        decoded = decode(frame)
        if check != "ok":  # a 0x8001 with an empty body: framing is fine, the message is not
            with pytest.raises(DecodeError, match="bad_body_length"):
                decode_general_response(decoded)
    if case.get("pending_bytes"):
        assert reader.buffered > 0


def test_a_partial_frame_completes_with_the_next_read():
    reader = FrameReader()
    case = VECTORS["stream_vectors"][1]
    assert len(reader.feed(even_hex(case["input"]))) == 2
    whole = bytes.fromhex(VECTORS["stream_vectors"][0]["frames"][1])  # the frame the partial one starts
    assert reader.feed(whole[17:]) == [whole]


def stream_of_all_good_frames() -> tuple[bytes, list[bytes]]:
    frames = [bytes.fromhex(vector["hex"]) for vector in GOOD]
    return b"".join(frames), frames


def test_every_split_position_gives_the_same_frames():
    for vector in GOOD:
        frame = bytes.fromhex(vector["hex"])
        stream = wire("0002_go_2013") + frame + wire("0002_go_2019")
        want = [wire("0002_go_2013"), frame, wire("0002_go_2019")]
        for at in range(len(stream) + 1):
            reader = FrameReader()
            assert reader.feed(stream[:at]) + reader.feed(stream[at:]) == want, (vector["id"], at)


def test_byte_by_byte_feeding_gives_every_frame():
    stream, frames = stream_of_all_good_frames()
    reader = FrameReader()
    assert [out for byte in stream for out in reader.feed(bytes((byte,)))] == frames


def test_garbage_before_the_first_frame_is_dropped_and_counted():
    reader = FrameReader()
    assert reader.feed(b"GET / HTTP/1.1\r\n" + wire("0002_go_2013")) == [wire("0002_go_2013")]
    assert reader.discarded_bytes == 16


def test_garbage_between_frames_becomes_a_candidate_that_decode_refuses():
    reader = FrameReader()
    out = reader.feed(wire("0002_go_2013") + b"\xde\xad\xbe\xef" + wire("0002_go_2019"))
    assert out == [wire("0002_go_2013"), b"\x7e\xde\xad\xbe\xef\x7e", wire("0002_go_2019")]
    with pytest.raises(DecodeError):
        decode(out[1])


def test_back_to_back_and_shared_delimiters():
    a, b = wire("0002_go_2013"), wire("0002_go_2019")
    assert FrameReader().feed(b"\x7e\x7e\x7e" + a + b"\x7e" + b) == [a, b]
    assert FrameReader().feed(a + b[1:]) == [a, b]  # one 7e closes a and opens b


def test_an_over_long_frame_is_reported_and_the_stream_resynchronises():
    reader = FrameReader(max_frame_bytes=40, max_buffer_bytes=1000)
    long = b"\x7e" + b"\x01" * 100 + b"\x7e"
    out = reader.feed(long[:50]) + reader.feed(long[50:] + wire("0002_go_2013"))
    assert out == [FramingProblem("too_long", b"\x7e" + b"\x01" * 38), wire("0002_go_2013")]
    assert reader.limit is False


def test_no_delimiter_within_the_buffer_limit_stops_the_reader():
    reader = FrameReader(max_frame_bytes=40, max_buffer_bytes=1000)
    assert reader.feed(b"\x7e" + b"\x01" * 999) == []
    out = reader.feed(b"\x01\x01")
    assert [problem.reason for problem in out] == ["buffer_limit"]
    assert reader.limit is True
    assert reader.feed(wire("0002_go_2013")) == []
    assert reader.buffered == 0


def test_a_frame_of_exactly_the_limit_passes():
    frame = wire("0002_go_2013")
    assert FrameReader(max_frame_bytes=len(frame)).feed(frame) == [frame]
    assert FrameReader(max_frame_bytes=len(frame) - 1, max_buffer_bytes=100).feed(frame)[0].reason == "too_long"
