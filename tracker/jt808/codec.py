"""Decode one JT/T 808 wire frame into a Frame, and encode one.

Receiving order (the standard's): strip the 7E delimiters, unescape, verify the XOR
checksum, read the header, check the body length field. Every refusal is a
``DecodeError`` carrying the header whenever it could be read, so the gateway can
still answer 0x8001 result 2 to the terminal.

Quirks: deviations of real devices, each recorded by name in ``Frame.quirks`` so the
gateway can count them per terminal (PROTOCOL.md §6: never accept silently).

- ``version_flag_with_2013_header`` (always accepted): properties bit 14 (the 2019
  flag) is set but the header has the 2013 layout, BCD[6] phone and no version byte
  (SmallChi "JTT2013Force" devices). Chosen when the frame length fits the 2013 layout
  and not the 2019 one; the frame then counts as version "2013", so replies use the
  layout the terminal actually sent.
- ``unescaped_7d_checksum`` (always accepted): the checksum byte 0x7D sent raw instead
  of 7D 01 (go-jt808 accepts it). A 7D right before the closing 7E cannot start an
  escape pair, so reading it as the byte 7D is unambiguous; the checksum must match.
- ``bad_checksum`` and ``length_field_mismatch`` (only with ``quirks_allowed=True``,
  meant as a per-terminal compatibility flag): a real traccar-tested device sends a
  wrong checksum and a length field of 50 for a 40-byte body. Without the flag these
  are refused; with it the body is the bytes actually between header and checksum.

Other deviations stay refused: an escape 7D XX with XX not 01/02 in the middle of a
frame (hylexus keeps it raw, which only moves the error into the body), and a raw 7E
inside a frame (the stream splitter cuts there, so it cannot reach ``decode`` whole).
"""
from __future__ import annotations

from dataclasses import dataclass

from tracker.jt808.errors import DecodeError
from tracker.jt808.framing import DELIMITER, ESCAPE, escape, unescape, unescape_prefix, xor_checksum
from tracker.jt808.header import (
    MAX_BODY, VERSION_BIT, Header, build_header, parse_header, size_of,
)

_ID_PROPS_BYTES = 4


@dataclass(frozen=True, slots=True)
class Frame:
    msg_id: int
    version: str  # "2013" (2011 too) or "2019": the layout to answer in
    protocol_version: int | None  # the 2019 header's version byte, None for 2013
    phone: str  # the BCD digits as sent; phone_key() for identity
    serial: int
    encrypted: bool  # RSA flag (properties bit 10): the body is ciphertext the platform cannot read
    subpackage: tuple[int, int] | None  # (total, index) of a piece, index from 1
    body: bytes
    quirks: tuple[str, ...] = ()


def phone_key(phone: str) -> str:
    """The terminal identity: the phone without leading zeros, so the 2013 BCD[6]
    ``013912345678`` and the 2019 BCD[10] ``00000000013912345678`` are one terminal."""
    return phone.lstrip("0") or "0"


def decode(wire: bytes, *, quirks_allowed: bool = False) -> Frame:
    """Decode one frame as FrameReader yields it: escaped, with both 7E delimiters."""
    content = _content(wire)
    quirks: list[str] = []
    tail = b""
    if content[-1] == ESCAPE:
        content, tail = content[:-1], b"\x7d"
        quirks.append("unescaped_7d_checksum")
    try:
        data = unescape(content) + tail
    except DecodeError as error:
        error.header = _readable_header(unescape_prefix(content))
        raise
    header = _header(data, quirks)
    if len(data) < header.size + 1:
        raise DecodeError("truncated", "no checksum byte after the header", header)
    body = data[header.size:-1]
    computed = xor_checksum(data[:-1])
    if computed != data[-1]:
        if not quirks_allowed:
            raise DecodeError("bad_checksum", f"frame has {data[-1]:02x}, computed {computed:02x}", header)
        quirks.append("bad_checksum")
    if len(body) != header.body_length:
        if not quirks_allowed:
            raise DecodeError("length_field_mismatch",
                              f"length field {header.body_length}, body {len(body)} bytes", header)
        quirks.append("length_field_mismatch")
    if header.subpackage is not None:
        total, index = header.subpackage
        if not 1 <= index <= total:
            raise DecodeError("bad_subpackage", f"packet {index} of {total}", header)
    return Frame(header.msg_id, header.version, header.protocol_version, header.phone,
                 header.serial, header.encrypted, header.subpackage, body, tuple(quirks))


def encode(msg_id: int, phone: str, serial: int, body: bytes, *, version: str,
           protocol_version: int = 1, subpackage: tuple[int, int] | None = None) -> bytes:
    """The escaped, delimited wire frame; ValueError for values a frame cannot carry."""
    content = build_header(msg_id, phone, serial, len(body), version=version,
                           protocol_version=protocol_version, subpackage=subpackage) + body
    return b"\x7e" + escape(content + bytes((xor_checksum(content),))) + b"\x7e"


def _content(wire: bytes) -> bytes:
    if len(wire) < 2 or wire[0] != DELIMITER or wire[-1] != DELIMITER:
        if not wire:
            raise DecodeError("empty", "no bytes")
        raise DecodeError("unframed", "a frame starts and ends with 7e")
    content = bytes(wire[1:-1])  # a bytearray from a caller must not end up in Frame.body
    if not content:
        raise DecodeError("empty", "nothing between the delimiters")
    at = content.find(DELIMITER)
    if at >= 0:
        raise DecodeError("unescaped_delimiter", f"raw 7e at offset {at + 1}")
    return content


def _header(data: bytes, quirks: list[str]) -> Header:
    """Choose the layout and read the header of unescaped content (with checksum).

    Bit 14 says 2019, but when only the 2013 layout fits the frame length, the
    terminal is one of those that set the flag on a 2013 header.
    """
    if len(data) < _ID_PROPS_BYTES:
        raise DecodeError("truncated", f"{len(data)} bytes cannot hold a header")
    properties = int.from_bytes(data[2:4], "big")
    version = "2013"
    if properties & VERSION_BIT:
        version = "2019"
        body_length = properties & MAX_BODY
        fits_2019 = len(data) == size_of(properties, "2019") + body_length + 1
        if not fits_2019 and len(data) == size_of(properties, "2013") + body_length + 1:
            version = "2013"
            quirks.append("version_flag_with_2013_header")
    return parse_header(data, version)


def _readable_header(prefix: bytes) -> Header | None:
    """The header of a frame refused for a bad escape, if the escape lies after it."""
    try:
        return _header(prefix, [])
    except DecodeError:
        return None
