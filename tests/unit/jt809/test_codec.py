"""One frame in, one Frame out: each refusal with its reason, the cipher, the quirk."""
from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.jt809.support import FUZZ
from tracker.jt809 import CodecError, Keys, decode, encode
from tracker.jt809.crypto import crypt
from tracker.jt809.framing import crc16, escape
from tracker.jt809.messages import decode_empty

KEYS = Keys(30000000, 20000000, 20000000)


def wire_of(content: bytes) -> bytes:
    """A correctly framed, escaped and CRC'd frame around arbitrary unescaped content."""
    return b"\x5b" + escape(content + crc16(content).to_bytes(2, "big")) + b"\x5d"


def content_2011(body: bytes, *, length: int | None = None, flag: int = 0, msg_id: int = 0x1005) -> bytes:
    size = 22 + len(body) + 4 if length is None else length
    return struct.pack(">IIHI3sBI", size, 7, msg_id, 123, b"\x01\x00\x00", flag, 0) + body


def refusal(wire: bytes, version: str = "2011", keys: Keys | None = None) -> CodecError:
    with pytest.raises(CodecError) as refused:
        decode(wire, version, keys)
    return refused.value


@pytest.mark.parametrize(("wire", "reason"), [
    (b"", "empty"), (b"\x5b\x5d", "empty"), (b"\x00\x5b\x5d", "unframed"), (b"\x5b\x00", "unframed"),
    (b"\x5b\x00\x5b\x00\x5d", "unescaped_delimiter"), (b"\x5b\x00\x5d\x00\x5d", "unescaped_delimiter"),
    (b"\x5b" + b"\x00" * 10 + b"\x5d", "truncated"),
])
def test_framing_refusals(wire, reason):
    assert refusal(wire).reason == reason


def test_a_header_without_crc_is_truncated_with_the_header_read():
    error = refusal(b"\x5b" + escape(content_2011(b"")[:23]) + b"\x5d")
    assert error.reason == "truncated" and error.header is not None and error.header.msg_id == 0x1005


def test_bad_crc_keeps_the_header():
    wire = bytearray(wire_of(content_2011(b"")))
    wire[-2] ^= 0x01
    error = refusal(bytes(wire))
    assert error.reason == "bad_crc" and error.header.serial == 7


@pytest.mark.parametrize("length", [0, 25, 27, 0xFFFFFFFF])
def test_msg_length_must_be_the_frame_length(length):
    assert refusal(wire_of(content_2011(b"", length=length))).reason == "length_field_mismatch"


def test_encrypt_flag_must_be_0_or_1():
    assert refusal(wire_of(content_2011(b"", flag=2))).reason == "bad_encrypt_flag"


def test_an_encrypted_body_needs_keys():
    wire = encode(0x1003, b"secret", version="2011", serial=1, access_code=2, keys=KEYS, key=5)
    assert refusal(wire).reason == "no_keys"
    assert decode(wire, "2011", KEYS).body == b"secret"


def test_the_layout_is_the_callers_a_2019_frame_read_as_2011_has_its_time_as_body():
    """Why the version is an argument: the header cannot tell; the body decoders notice."""
    wire = encode(0x1005, b"", version="2019", serial=1, access_code=2, time_s=1_700_000_000)
    assert decode(wire, "2019").time_s == 1_700_000_000
    misread = decode(wire, "2011")
    assert misread.body == (1_700_000_000).to_bytes(8, "big")
    with pytest.raises(CodecError) as refused:
        decode_empty(misread)
    assert refused.value.reason == "unexpected_body"


def test_raw_escape_byte_is_accepted_only_when_the_crc_agrees():
    content = content_2011(b"\x5a\x33")
    raw = b"\x5b" + content + crc16(content).to_bytes(2, "big") + b"\x5d"  # 5A 33 unescaped
    frame = decode(raw, "2011")
    assert frame.body == b"\x5a\x33" and frame.quirks == ("raw_escape_byte",)
    broken = raw[:-3] + bytes((raw[-3] ^ 1,)) + raw[-2:]
    error = refusal(broken)
    assert error.reason == "bad_escape" and error.header is not None


def test_encode_refuses_what_the_header_cannot_carry():
    with pytest.raises(ValueError):
        encode(0x1005, b"", version="2019", serial=1, access_code=2)  # no time
    with pytest.raises(ValueError):
        encode(0x1005, b"", version="2013", serial=1, access_code=2)
    with pytest.raises(ValueError):
        encode(0x1005, b"", version="2011", serial=1 << 32, access_code=2)
    with pytest.raises(ValueError):
        encode(0x1005, b"", version="2011", serial=1, access_code=2, version_flag=b"\x01")
    with pytest.raises(ValueError):
        decode(b"\x5b\x5d", "2013")


def test_keys():
    assert Keys.parse("30000000, 0x1312D00,20000000") == Keys(30000000, 20000000, 20000000)
    for bad in ("1,2", "a,b,c", "0,1,1", f"1,{1 << 32},1"):
        with pytest.raises(ValueError):
            Keys.parse(bad)


@FUZZ
@given(st.binary(max_size=300), st.integers(0, 0xFFFFFFFF), st.integers(1, 0xFFFFFFFF), st.integers(0, 0xFFFFFFFF),
       st.integers(0, 0xFFFFFFFF))
def test_the_cipher_is_its_own_inverse(data, key, m1, ia1, ic1):
    keys = Keys(m1, ia1, ic1)
    assert crypt(crypt(data, key, keys), key, keys) == data


def test_key_zero_counts_as_one():
    assert crypt(b"\x00" * 8, 0, KEYS) == crypt(b"\x00" * 8, 1, KEYS)
