"""The JT/T 808 message header in its two layouts.

2013 (and 2011): id WORD, properties WORD, phone BCD[6], serial WORD
[, total WORD, index WORD] = 12 or 16 bytes.
2019: id WORD, properties WORD (bit 14 set), protocol version BYTE, phone BCD[10],
serial WORD [, total WORD, index WORD] = 17 or 21 bytes.

Properties: bits 0-9 body length, 10 RSA encryption, 11-12 other encryption (unused),
13 subpackage, 14 the 2019 version flag, 15 reserved.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

from tracker.jt808.errors import DecodeError

MAX_BODY = 0x3FF
RSA_BIT = 1 << 10
SUBPACKAGE_BIT = 1 << 13
VERSION_BIT = 1 << 14

_ID_PROPS = struct.Struct(">HH")
_WORD = struct.Struct(">H")
_WORD2 = struct.Struct(">HH")
PHONE_DIGITS = {"2013": 12, "2019": 20}


@dataclass(frozen=True, slots=True)
class Header:
    msg_id: int
    properties: int
    version: str  # "2013" (also 2011, whose header is the same) or "2019"
    protocol_version: int | None  # 2019 only
    phone: str  # the BCD digits as sent: 12 (2013) or 20 (2019)
    serial: int
    subpackage: tuple[int, int] | None  # (total, index), index from 1
    size: int  # header bytes

    @property
    def body_length(self) -> int:
        return self.properties & MAX_BODY

    @property
    def encrypted(self) -> bool:
        return bool(self.properties & RSA_BIT)


def size_of(properties: int, version: str) -> int:
    """Header bytes for these properties in this layout."""
    return (12 if version == "2013" else 17) + (4 if properties & SUBPACKAGE_BIT else 0)


def parse_header(data: bytes, version: str) -> Header:
    """Read a header of the given layout from the start of unescaped frame content.

    The caller chooses the layout (codec.decode decides between the flag and the frame
    length); DecodeError ``truncated`` when data is shorter than the layout,
    ``bad_bcd`` for a phone nibble above 9.
    """
    if len(data) < 4:
        raise DecodeError("truncated", f"{len(data)} bytes cannot hold a message id and properties")
    msg_id, properties = _ID_PROPS.unpack_from(data)
    size = size_of(properties, version)
    if len(data) < size:
        raise DecodeError("truncated", f"{version} header needs {size} bytes, have {len(data)}")
    if version == "2013":
        protocol_version, phone_at = None, 4
    else:
        protocol_version, phone_at = data[4], 5
    serial_at = phone_at + PHONE_DIGITS[version] // 2
    phone = data[phone_at:serial_at].hex()
    if not phone.isdigit():
        raise DecodeError("bad_bcd", f"terminal phone {phone!r} is not BCD")
    subpackage = _WORD2.unpack_from(data, serial_at + 2) if properties & SUBPACKAGE_BIT else None
    return Header(msg_id, properties, version, protocol_version, phone,
                  _WORD.unpack_from(data, serial_at)[0], subpackage, size)


def build_header(msg_id: int, phone: str, serial: int, body_length: int, *, version: str,
                 protocol_version: int = 1, subpackage: tuple[int, int] | None = None) -> bytes:
    """Header bytes; ValueError for values the layout cannot carry."""
    if version not in PHONE_DIGITS:
        raise ValueError(f"version must be '2013' or '2019', not {version!r}")
    digits = PHONE_DIGITS[version]
    if len(phone) > digits or phone.strip("0123456789"):
        raise ValueError(f"phone must be at most {digits} decimal digits, not {phone!r}")
    if not (0 <= msg_id <= 0xFFFF and 0 <= serial <= 0xFFFF):
        raise ValueError(f"msg_id {msg_id} and serial {serial} must be WORDs")
    if not 0 <= body_length <= MAX_BODY:
        raise ValueError(f"body of {body_length} bytes needs subpackages (max {MAX_BODY})")
    properties = body_length
    tail = b""
    if subpackage is not None:
        total, index = subpackage
        if not 1 <= index <= total <= 0xFFFF:
            raise ValueError(f"subpackage (total, index) {subpackage} out of range")
        properties |= SUBPACKAGE_BIT
        tail = _WORD2.pack(total, index)
    if version == "2019":
        if not 0 <= protocol_version <= 0xFF:
            raise ValueError(f"protocol_version {protocol_version} is not a byte")
        head = _ID_PROPS.pack(msg_id, properties | VERSION_BIT) + bytes((protocol_version,))
    else:
        head = _ID_PROPS.pack(msg_id, properties)
    return head + bytes.fromhex(phone.zfill(digits)) + _WORD.pack(serial) + tail
