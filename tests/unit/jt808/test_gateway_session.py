"""The gateway's pure parts: a connection's Session fed bytes (hypothesis too), takeover
holders, and JT/T 808 positions through the HTTP intake's validation."""
from __future__ import annotations

import orjson
from hypothesis import given
from hypothesis import strategies as st

from schemas import validator
from tests.unit.jt808.support import FUZZ, GOOD, QUIRKS
from tracker.dev.terminal import location
from tracker.intake.items import sort_items
from tracker.jt808.codec import decode, encode
from tracker.jt808.fixes import acceptor, items_of
from tracker.jt808.framing import escape, xor_checksum
from tracker.jt808.location import Location, encode_location
from tracker.jt808.messages import decode_general_response
from tracker.jt808.sessions import HANDLED, Close, Holders, Inbound, Refused, Reply, Session, Terminal
from tracker.settings import Jt808Limits

PHONE = "013912345678"
LIMITS = Jt808Limits()
T0 = 1_800_000_000_000


def frame(msg_id: int, body: bytes = b"", serial: int = 7, version: str = "2013", **kw) -> bytes:
    phone = PHONE if version == "2013" else PHONE.rjust(20, "0")
    return encode(msg_id, phone, serial, body, version=version, **kw)


def replies(events) -> list[tuple[int, int, int]]:
    """(reply serial, answered id, result) of each 0x8001 among the events."""
    out = []
    for e in events:
        if isinstance(e, Reply) and e.msg_id == 0x8001:
            r = decode_general_response(decode(e.wire))
            out.append((r.reply_serial, r.reply_msg_id, r.result))
    return out


def test_a_bad_checksum_is_answered_2_and_refused_and_the_connection_goes_on():
    session = Session(LIMITS)
    bad = bytearray(frame(0x0002, serial=9))
    bad[-2] ^= 0x40
    events = session.receive(bytes(bad) + frame(0x0002, serial=10), T0)
    assert [type(e) for e in events] == [Refused, Reply, Inbound]
    assert events[0].reason == "bad_checksum" and events[0].wire == bytes(bad)
    assert replies(events) == [(9, 0x0002, 2)]
    assert events[2].frame.serial == 10 and session.closed is None


def test_bytes_without_a_readable_header_are_only_refused():
    events = Session(LIMITS).receive(b"\x7e\x01\x02\x7e", T0)
    assert [type(e) for e in events] == [Refused] and events[0].header is None


def test_unknown_and_encrypted_messages_are_answered_3():
    session = Session(LIMITS)
    events = session.receive(frame(0x0F0F, b"\x01", serial=3), T0)
    assert replies(events) == [(3, 0x0F0F, 3)]
    content = (0x0200).to_bytes(2, "big") + (28 | 1 << 10).to_bytes(2, "big") + bytes.fromhex(PHONE) \
        + (5).to_bytes(2, "big") + bytes(28)  # properties bit 10: an RSA-encrypted body
    events = session.receive(b"\x7e" + escape(content + bytes((xor_checksum(content),))) + b"\x7e", T0)
    assert replies(events) == [(5, 0x0200, 3)]
    assert [e.reason for e in events if isinstance(e, Refused)] == ["encrypted"]


def test_replies_use_the_terminal_header_version():
    session = Session(LIMITS)
    events = session.receive(frame(0x0F0F, serial=1, version="2019"), T0)
    answer = decode(events[0].wire)
    assert answer.version == "2019" and answer.phone == PHONE.rjust(20, "0")


def test_subpackages_are_answered_one_by_one_and_the_whole_message_is_inbound_and_missing_ones_asked_for():
    session = Session(LIMITS)
    body = encode_location(location(29.9, 121.8, T0))
    events = session.receive(frame(0x0200, body[:10], serial=20, subpackage=(2, 1)), T0)
    assert replies(events) == [(20, 0x0200, 0)]
    events = session.receive(frame(0x0200, body[10:], serial=21, subpackage=(2, 2)), T0 + 10)
    [whole] = events
    assert isinstance(whole, Inbound) and whole.frame.body == body and whole.reply_to.serial == 21
    session.receive(frame(0x0704, b"\x00\x01\x00", serial=30, subpackage=(3, 1)), T0)
    assert session.overdue(T0 + 29_000) == []
    [request] = session.overdue(T0 + 30_000)
    asked = decode(request.wire)
    assert asked.msg_id == 0x8003 and asked.body == bytes.fromhex("001e02" "0002" "0003")


def test_limits_close_the_connection():
    session = Session(Jt808Limits(frames_per_s=3))
    events = session.receive(b"".join(frame(0x0002, serial=n) for n in range(5)), T0)
    assert isinstance(events[-1], Close) and events[-1].reason == "rate"
    assert len([e for e in events if isinstance(e, Inbound)]) == 3
    assert session.receive(frame(0x0002), T0 + 5000) == []  # closed stays closed
    assert Session(Jt808Limits(frames_per_s=3)).receive(frame(0x0002), T0 + 1000)  # a new second, a new budget
    session = Session(LIMITS)
    assert session.receive(b"\x7e" + b"\x01" * 2200 + b"\x7e", T0)[-1] == Close("frame_size")
    session = Session(LIMITS)
    assert session.receive(b"\x7e" + b"\x01" * 70_000, T0)[-1] == Close("buffer")


def test_only_the_authenticated_terminal_is_authorised_whatever_its_padding():
    session = Session(LIMITS)
    [inbound] = session.receive(frame(0x0200, serial=1, version="2019"), T0)
    assert not session.authorised(inbound.frame)
    session.terminal = Terminal("13912345678", "浙B12345", "C1")
    assert session.authorised(inbound.frame)
    [other] = session.receive(encode(0x0200, "013900000000", 2, b"", version="2013"), T0)
    assert not session.authorised(other.frame)


def test_a_connection_that_authenticates_takes_the_phone_from_the_one_before():
    holders, a, b = Holders(), object(), object()
    assert holders.claim("139", a) is None
    assert holders.claim("139", a) is None  # again on the same connection: nobody to close
    assert holders.claim("139", b) is a
    assert not holders.release("139", a)  # the old one ending does not free the new one's
    assert holders.holder("139") is b and holders.release("139", b) and len(holders) == 0


WIRES = [bytes.fromhex(v["hex"]) for v in GOOD + QUIRKS]


@FUZZ
@given(st.lists(st.one_of(st.binary(max_size=300), st.sampled_from(WIRES)), max_size=30),
       st.integers(min_value=1, max_value=64))
def test_any_bytes_in_any_chunks_never_break_a_session(pieces, chunk):
    """Whatever arrives: no exception, every answer is a frame the codec reads, only whole
    handled messages are inbound, nothing after a close, and the reader's memory bounded."""
    session = Session(Jt808Limits(frames_per_s=50, max_buffer_bytes=4096, max_frame_bytes=2100))
    stream = b"".join(pieces)
    closed = False
    for at in range(0, len(stream), chunk):
        events = session.receive(stream[at:at + chunk], T0 + at)
        assert not (closed and events)
        for e in events:
            if isinstance(e, Reply):
                assert decode(e.wire).msg_id in (0x8001, 0x8003)
            elif isinstance(e, Inbound):
                assert e.frame.msg_id in HANDLED and e.frame.subpackage is None
            elif isinstance(e, Close):
                closed = True
            else:
                assert isinstance(e, Refused) and e.reason
        assert session.reader.buffered <= 2100
    for request in session.overdue(T0 + 10**9):
        assert decode(request.wire).msg_id == 0x8003


LOCATIONS = st.builds(
    Location, st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1),
    st.floats(-200, 200, allow_nan=False), st.floats(-200, 200, allow_nan=False), st.integers(0, 65535),
    st.integers(0, 65535).map(lambda raw: raw / 10), st.integers(0, 65535),
    st.integers(T0 - 10 * 86_400_000, T0 + 86_400_000),
    # (items as decoded: the fixed-size active-safety items have their own tests, test_safety.py)
    st.dictionaries(st.integers(0, 255).filter(lambda i: i not in (0x64, 0x65)), st.binary(max_size=4), max_size=3))


@FUZZ
@given(st.lists(LOCATIONS, max_size=20))
def test_any_positions_are_published_or_dead_lettered_as_http_fixes_are(locations):
    """Through the HTTP intake's own sorting: each positioned report is a schema-valid
    normalised fix or a dead letter with its reason and the frame in hex."""
    items, kept = items_of("浙B12345", locations)
    batch = sort_items(items, validator("fix.schema.json"), acceptor(items, kept, {"浙B12345": "C1"}.get, T0),
                       "jt808", T0, dead_extra={"frame_hex": "7e7e"})
    assert len(batch.good) + len(batch.dead) == len(items) == sum(loc.positioned for loc in locations)
    for _, value in batch.good:
        fix = orjson.loads(value)
        assert validator("normalised_fix.schema.json").is_valid(fix)
        assert fix["source"] == "jt808" and "status_flags" in fix
    for _, value in batch.dead:
        record = orjson.loads(value)
        assert validator("deadletter.schema.json").is_valid(record) and record["frame_hex"] == "7e7e"
