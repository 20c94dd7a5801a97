"""Every public test frame: good ones decode to the expected header and re-encode to
the same bytes, broken ones are refused with a precise reason, quirk frames are
accepted exactly as codec's docstring says."""
from __future__ import annotations

import pytest

from tests.unit.jt808.support import BROKEN, GOOD, QUIRKS, expected, wire
from tracker.jt808 import DecodeError, decode, encode, phone_key
from tracker.jt808.location import decode_location


@pytest.mark.parametrize("vector", GOOD, ids=lambda v: v["id"])
def test_good_frame_decodes_to_its_header_and_reencodes_byte_for_byte(vector):
    want = expected(vector)
    frame = decode(bytes.fromhex(vector["hex"]))
    assert frame.msg_id == int(want["msg_id"], 16)
    assert frame.phone == want["phone_bcd"]
    assert frame.serial == want["serial_no"]
    assert len(frame.body) == want["body_len"]
    assert frame.version == ("2019" if vector["version"] == "2019" else "2013")
    assert frame.protocol_version == want.get("protocol_version")
    assert frame.encrypted is False
    assert frame.quirks == ()
    if want.get("subpackage_bit13"):
        assert frame.subpackage == (want["pkg_total"], want["pkg_index"])
    else:
        assert frame.subpackage is None
    if "phone_as_asserted_by_source" in want:
        assert phone_key(frame.phone) == want["phone_as_asserted_by_source"].lstrip("0")
    again = encode(frame.msg_id, frame.phone, frame.serial, frame.body, version=frame.version,
                   protocol_version=frame.protocol_version or 1, subpackage=frame.subpackage)
    assert again.hex() == vector["hex"]


# (reason, header readable) per broken vector; the additional-item ones pass framing
# and are refused by the location decoder.
BROKEN_REASONS = {
    "bad_checksum_go": ("bad_checksum", True),
    "body_len_mismatch_go": ("length_field_mismatch", True),
    "truncated_no_end_go": ("unframed", False),
    "too_short_go": ("truncated", False),
    "header_short_go": ("truncated", False),
    "subpkg_header_short_go": ("truncated", False),
    "missing_checksum_go": ("truncated", True),
    "derived_bad_checksum": ("bad_checksum", True),
    "derived_truncated_body_valid_checksum": ("length_field_mismatch", True),
    "derived_truncated_stream": ("unframed", False),
    "derived_bad_escape_7d03": ("bad_escape", False),
    "derived_unescaped_7e_inside": ("unescaped_delimiter", False),
    "derived_2019_header_truncated": ("truncated", False),
}
BROKEN_LOCATIONS = {
    "addl_len_mismatch_1_go": "bad_item_length",
    "addl_len_mismatch_2_go": "truncated_item",
    "addl_len_mismatch_3_go": "truncated_item",
    "derived_truncated_additional_item": "truncated_item",
}


def test_every_broken_vector_has_an_expected_reason():
    assert {v["id"] for v in BROKEN} == BROKEN_REASONS.keys() | BROKEN_LOCATIONS.keys()


@pytest.mark.parametrize("vector_id", BROKEN_REASONS)
def test_broken_frame_is_refused_with_its_reason(vector_id):
    reason, readable = BROKEN_REASONS[vector_id]
    with pytest.raises(DecodeError) as refused:
        decode(wire(vector_id))
    assert refused.value.reason == reason
    assert (refused.value.header is not None) == readable


@pytest.mark.parametrize("vector_id", BROKEN_LOCATIONS)
def test_broken_location_passes_framing_and_is_refused_by_the_body_decoder(vector_id):
    frame = decode(wire(vector_id))
    with pytest.raises(DecodeError) as refused:
        decode_location(frame.body)
    assert refused.value.reason == BROKEN_LOCATIONS[vector_id]


def test_the_header_of_a_bad_checksum_frame_names_the_terminal_to_answer():
    with pytest.raises(DecodeError) as refused:
        decode(wire("derived_bad_checksum"))
    header = refused.value.header
    assert (header.msg_id, header.phone, header.serial, header.version) == (0x0002, "012345678900", 10, "2013")


def test_a_bad_escape_after_the_header_keeps_the_header_readable():
    good = encode(0x0200, "13912345678", 7, b"\x01\x02\x03", version="2019")
    with pytest.raises(DecodeError) as refused:
        decode(good[:-3] + b"\x7d\x03" + good[-3:])
    assert refused.value.reason == "bad_escape"
    assert refused.value.header.phone == "00000000013912345678"


QUIRK_NAMES = {
    "0200_traccar_real_30_31": ("bad_checksum", "length_field_mismatch"),
    "quirk_0102_versionbit_but_2013_header": ("version_flag_with_2013_header",),
    "quirk_0200_versionbit_but_2013_header": ("version_flag_with_2013_header",),
    "quirk_checksum_7d_unescaped": ("unescaped_7d_checksum",),
}
ONLY_WITH_FLAG = {"0200_traccar_real_30_31": "bad_checksum"}


@pytest.mark.parametrize("vector", QUIRKS, ids=lambda v: v["id"])
def test_quirk_frame_is_decoded_leniently_and_the_quirk_recorded(vector):
    want = expected(vector)
    frame = decode(bytes.fromhex(vector["hex"]), quirks_allowed=True)
    assert frame.quirks == QUIRK_NAMES[vector["id"]]
    assert (frame.msg_id, frame.phone, frame.serial) == (int(want["msg_id"], 16), want["phone_bcd"],
                                                         want["serial_no"])
    assert frame.version == "2013"  # so replies use the layout the terminal sent


@pytest.mark.parametrize("vector", QUIRKS, ids=lambda v: v["id"])
def test_without_the_flag_only_the_harmless_quirks_are_accepted(vector):
    refused = ONLY_WITH_FLAG.get(vector["id"])
    if refused is None:
        assert decode(bytes.fromhex(vector["hex"])).quirks == QUIRK_NAMES[vector["id"]]
    else:
        with pytest.raises(DecodeError) as error:
            decode(bytes.fromhex(vector["hex"]))
        assert error.value.reason == refused


def test_length_field_mismatch_alone_is_accepted_only_with_the_flag():
    frame = bytes.fromhex("7e0801200500123456789002de001a000228080001517e")  # body_len_mismatch_go
    assert decode(frame, quirks_allowed=True).quirks == ("length_field_mismatch",)


def test_phone_key_makes_the_three_spellings_one_terminal():
    assert {phone_key(p) for p in ("13912345678", "013912345678", "00000000013912345678")} == {"13912345678"}
