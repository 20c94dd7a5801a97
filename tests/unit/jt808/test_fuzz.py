"""Properties over generated input: the codec never fails with anything but
DecodeError, encode and decode are inverse, the fast paths equal brute force, and the
stream splitter is independent of how TCP chunks the bytes. `make fuzz` runs these
with 20 000 examples each (HAZMAT_FUZZ_EXAMPLES)."""
from __future__ import annotations

import math
from functools import reduce
from operator import xor

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.jt808.support import FUZZ, FUZZ_TIMEOUT_S, GOOD, QUIRKS
from tracker.jt808 import DecodeError, Frame, FrameReader, decode, encode, messages
from tracker.jt808.framing import escape, unescape, xor_checksum
from tracker.jt808.location import Location, decode_batch, decode_location, encode_batch, encode_location
from tracker.jt808.messages import decode_auth, decode_empty, decode_general_response, decode_register
from tracker.jt808.subpackages import Reassembler

WIRES = [bytes.fromhex(vector["hex"]) for vector in GOOD + QUIRKS]
BODY_DECODERS = {
    messages.TERMINAL_RESPONSE: decode_general_response, messages.PLATFORM_RESPONSE: decode_general_response,
    messages.HEARTBEAT: decode_empty, messages.LOGOUT: decode_empty, messages.REGISTER: decode_register,
    messages.AUTHENTICATE: decode_auth, messages.LOCATION: lambda frame: decode_location(frame.body),
    messages.BATCH: lambda frame: decode_batch(frame.body),
}
VERSIONS = st.sampled_from(["2013", "2019"])
pytestmark = pytest.mark.timeout(FUZZ_TIMEOUT_S)


def decode_everything(wire: bytes, quirks_allowed: bool) -> None:
    """Frame and body decoding as the gateway does it; only DecodeError may escape."""
    try:
        frame = decode(wire, quirks_allowed=quirks_allowed)
        decoder = BODY_DECODERS.get(frame.msg_id)
        if decoder is not None:
            decoder(frame)
    except DecodeError as error:
        assert error.reason and error.detail


@FUZZ
@given(st.binary(max_size=2200), st.booleans(), st.booleans())
def test_arbitrary_bytes_only_ever_raise_decode_error(data, delimited, quirks_allowed):
    decode_everything(b"\x7e" + data + b"\x7e" if delimited else data, quirks_allowed)


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
@given(st.sampled_from(WIRES), st.data(), st.booleans())
def test_mutated_good_frames_only_ever_raise_decode_error(wire, data, quirks_allowed):
    decode_everything(mutated(wire, data.draw), quirks_allowed)


@FUZZ
@given(st.sampled_from(sorted(BODY_DECODERS)), st.binary(max_size=1100), VERSIONS)
def test_arbitrary_bodies_only_ever_raise_decode_error(msg_id, body, version):
    try:
        BODY_DECODERS[msg_id](Frame(msg_id, version, 1 if version == "2019" else None, "0" * 12, 0, False,
                                    None, body))
    except DecodeError:
        pass


@st.composite
def frames(draw):
    version = draw(VERSIONS)
    total = draw(st.integers(1, 0xFFFF))
    return dict(msg_id=draw(st.integers(0, 0xFFFF)), version=version,
                phone=draw(st.text("0123456789", max_size=12 if version == "2013" else 20)),
                serial=draw(st.integers(0, 0xFFFF)), body=draw(st.binary(max_size=1023)),
                protocol_version=draw(st.integers(0, 255)),
                subpackage=draw(st.none() | st.just((total, draw(st.integers(1, total))))))


@FUZZ
@given(frames())
def test_encode_then_decode_gives_the_same_frame(spec):
    frame = decode(encode(spec["msg_id"], spec["phone"], spec["serial"], spec["body"], version=spec["version"],
                          protocol_version=spec["protocol_version"], subpackage=spec["subpackage"]))
    digits = 12 if spec["version"] == "2013" else 20
    assert frame == Frame(spec["msg_id"], spec["version"],
                          spec["protocol_version"] if spec["version"] == "2019" else None,
                          spec["phone"].zfill(digits), spec["serial"], False, spec["subpackage"], spec["body"])


STANDARD_SIZES = {0x01: 4, 0x02: 2, 0x03: 2, 0x04: 2, 0x11: 5, 0x12: 6, 0x13: 7, 0x25: 4, 0x2A: 2, 0x2B: 4,
                  0x30: 1, 0x31: 1, 0x64: 47, 0x65: 47}
TIMES = st.integers(946_656_000, 4_102_415_999)  # 2000-01-01 .. 2099-12-31 23:59:59 in Beijing time


@st.composite
def items(draw):
    ids = draw(st.lists(st.integers(0, 255), unique=True, max_size=8))
    return {item_id: draw(st.binary(min_size=STANDARD_SIZES.get(item_id, 0),
                                    max_size=STANDARD_SIZES.get(item_id, 255))) for item_id in ids}


@st.composite
def locations(draw):
    lat = draw(st.integers(0, 0xFFFFFFFF)) / 1e6 * draw(st.sampled_from([1, -1]))
    lon = draw(st.integers(0, 0xFFFFFFFF)) / 1e6 * draw(st.sampled_from([1, -1]))
    status = draw(st.integers(0, 0xFFFFFFFF)) & ~0b1100
    status |= (4 if math.copysign(1, lat) < 0 else 0) | (8 if math.copysign(1, lon) < 0 else 0)
    return Location(draw(st.integers(0, 0xFFFFFFFF)), status, lat, lon, draw(st.integers(0, 0xFFFF)),
                    draw(st.integers(0, 0xFFFF)) / 10, draw(st.integers(0, 0xFFFF)), draw(TIMES) * 1000,
                    draw(items()))


@FUZZ
@given(locations())
def test_location_encode_then_decode_is_the_same_location(loc):
    again = decode_location(encode_location(loc))
    assert again == loc
    assert again.status_flags == loc.status_flags


@FUZZ
@given(st.integers(0, 255), st.lists(locations(), max_size=5))
def test_batch_encode_then_decode_is_the_same_batch(kind, locs):
    batch = decode_batch(encode_batch(kind, locs))
    assert (batch.kind, batch.locations) == (kind, tuple(locs))


@FUZZ
@given(st.binary(max_size=3000))
def test_checksum_equals_the_plain_xor(data):
    assert xor_checksum(data) == reduce(xor, data, 0)


def unescape_byte_by_byte(content: bytes) -> bytes | None:
    out, pending = bytearray(), False
    for byte in content:
        if pending:
            if byte not in (1, 2):
                return None
            out.append(0x7D if byte == 1 else 0x7E)
            pending = False
        elif byte == 0x7D:
            pending = True
        else:
            out.append(byte)
    return None if pending else bytes(out)


@FUZZ
@given(st.binary(max_size=300).map(lambda b: b.replace(b"\x00", b"\x7d").replace(b"\x03", b"\x01")))
def test_unescape_equals_the_byte_by_byte_definition(content):
    reference = unescape_byte_by_byte(content)
    try:
        assert unescape(content) == reference
    except DecodeError:
        assert reference is None


@FUZZ
@given(st.binary(max_size=300))
def test_unescape_inverts_escape(raw):
    assert b"\x7e" not in escape(raw)
    assert unescape(escape(raw)) == raw


STREAM_PARTS = st.sampled_from(WIRES) | st.binary(max_size=40) | st.just(b"\x7e")


@FUZZ
@given(st.lists(STREAM_PARTS, max_size=30), st.data())
def test_framing_does_not_depend_on_how_the_stream_is_chunked(parts, data):
    stream = b"".join(parts)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=20)))
    whole, chunked = FrameReader(max_frame_bytes=200), FrameReader(max_frame_bytes=200)
    out = []
    for start, end in zip([0, *cuts], [*cuts, len(stream)]):
        out += chunked.feed(stream[start:end])
    assert out == whole.feed(stream)
    assert chunked.discarded_bytes == whole.discarded_bytes


NO_DELIMITER = st.binary(min_size=300, max_size=1500).map(lambda b: b.replace(b"\x7e", b""))


@FUZZ
@given(st.lists(st.binary(max_size=300) | NO_DELIMITER, max_size=40))
def test_reader_memory_stays_bounded(chunks):
    reader = FrameReader(max_frame_bytes=100, max_buffer_bytes=1000)
    for chunk in chunks:
        stopped = reader.limit
        out = reader.feed(chunk)
        assert not (stopped and out)
        for item in out:
            assert len(item if isinstance(item, bytes) else item.raw) <= 100
        assert reader.buffered <= 98


@FUZZ
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(1, 6), st.integers(1, 6), st.integers(0, 1023)),
                max_size=60))
def test_reassembler_memory_stays_bounded(adds):
    reassembler = Reassembler(max_pending=4, max_bytes=6 * 1023)
    for now, (msg, total, index, size) in enumerate(adds):
        frame = Frame(0x0800 + msg, "2013", None, "013912345678", now, False, (total, min(index, total)),
                      b"x" * size)
        whole = reassembler.add(frame, now)
        assert whole is None or whole.subpackage is None
        assert reassembler.pending_bytes <= 6 * 1023
        assert len(reassembler.overdue(now - 30000)) == 0
