"""Reassembly of the real subpackaged 0x0104 pair and of synthetic messages."""
from __future__ import annotations

import pytest

from tests.unit.jt808.support import wire
from tracker.jt808 import DecodeError, decode, encode
from tracker.jt808.subpackages import Overdue, Reassembler

PART1, PART2 = decode(wire("sub_smallchi_0104_part1")), decode(wire("sub_smallchi_0104_part2"))


def pieces(body: bytes, first_serial: int, size: int = 1000, msg_id: int = 0x0801, phone: str = "13912345678"):
    chunks = [body[at:at + size] for at in range(0, len(body), size)]
    return [decode(encode(msg_id, phone, (first_serial + i) & 0xFFFF, chunk, version="2019",
                          subpackage=(len(chunks), i + 1))) for i, chunk in enumerate(chunks)]


def test_the_real_pair_with_non_consecutive_serials_is_joined_in_either_order():
    for order in ((PART1, PART2), (PART2, PART1)):
        reassembler = Reassembler()
        assert reassembler.add(order[0], 0) is None
        whole = reassembler.add(order[1], 1000)
        assert (whole.msg_id, whole.serial, whole.subpackage) == (0x0104, 1233, None)
        assert whole.body == PART1.body + PART2.body
        assert reassembler.pending_bytes == 0


def test_a_frame_without_subpackage_passes_through():
    frame = decode(wire("0002_go_2013"))
    assert Reassembler().add(frame, 0) is frame


def test_missing_pieces_are_reported_after_the_timeout_then_given_up():
    reassembler = Reassembler(timeout_ms=30000, max_requests=2)
    parts = pieces(bytes(range(256)) * 20, first_serial=65534)  # 6 pieces, serials wrap
    for piece in (parts[1], parts[3], parts[5]):
        reassembler.add(piece, 0)
    assert reassembler.overdue(29999) == []
    assert reassembler.overdue(30000) == [Overdue("00000000013912345678", 0x0801, 65534, [1, 3, 5], False)]
    assert reassembler.overdue(30001) == []  # the request restarted the timeout
    reassembler.add(parts[0], 31000)
    assert reassembler.overdue(61000) == [Overdue("00000000013912345678", 0x0801, 65534, [3, 5], True)]
    assert reassembler.overdue(91000) == []
    assert (reassembler.dropped, reassembler.pending_bytes) == (1, 0)


def test_a_retransmitted_piece_replaces_the_held_one():
    reassembler = Reassembler()
    parts = pieces(b"a" * 2500, first_serial=10)
    reassembler.add(parts[0], 0)
    reassembler.add(parts[0], 1)
    reassembler.add(parts[1], 2)
    assert reassembler.add(parts[2], 3).body == b"a" * 2500


def test_memory_is_bounded_by_message_count_and_bytes():
    reassembler = Reassembler(max_pending=3, max_bytes=8 * 1023)
    for n in range(10):
        reassembler.add(pieces(b"x" * 3000, first_serial=n * 10, msg_id=0x0800 + n)[0], n)
    assert len(reassembler.overdue(10**9)) == 3
    assert reassembler.dropped == 7
    reassembler = Reassembler(max_pending=100, max_bytes=8 * 1023)
    for n in range(20):
        reassembler.add(pieces(b"x" * 8000, first_serial=n * 10, msg_id=0x0800 + n)[0], n)
        assert reassembler.pending_bytes <= 8 * 1023
    assert reassembler.dropped == 12


def test_a_message_that_could_never_fit_is_refused():
    with pytest.raises(DecodeError) as refused:
        Reassembler(max_bytes=10 * 1023).add(pieces(b"x" * 11000, first_serial=1)[0], 0)
    assert refused.value.reason == "too_long"
