"""The JT/T 809 message header in its two layouts.

2011: MSG_LENGTH DWORD, MSG_SN DWORD, MSG_ID WORD, MSG_GNSSCENTERID DWORD (the access
code the superior platform gave the sub-platform), VERSION_FLAG BYTE[3] (01 02 0F is
v1.2.15), ENCRYPT_FLAG BYTE (0 plain, 1 encrypted body), ENCRYPT_KEY DWORD = 22 bytes.
2019: the same, then TIME UINT64 (the sender's clock, UTC seconds since 1970) = 30.

MSG_LENGTH counts the whole unescaped frame, both flags and the CRC included. Nothing
in the header says which layout it is (real 2019 platforms send version 00 00 00 as
well as 01 00 00), so the caller chooses: the version is a property of the link,
fixed at login (see codec.login_version).
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

from tracker.jt809.errors import CodecError

SIZES = {"2011": 22, "2019": 30}
FRAMING = 4  # the two flags and the CRC around header + body

_FIXED = struct.Struct(">IIHI3sBI")
_TIME = struct.Struct(">Q")


@dataclass(frozen=True, slots=True)
class Header:
    length: int  # MSG_LENGTH as sent
    serial: int
    msg_id: int
    access_code: int  # MSG_GNSSCENTERID
    version_flag: bytes  # 3 bytes, e.g. 01 00 00
    encrypt_flag: int  # 0 or 1 once the codec accepted the frame
    key: int  # ENCRYPT_KEY, the seed of the body's cipher
    time_s: int | None  # 2019: sender's UTC seconds; None in 2011
    version: str  # "2011" or "2019": the layout read

    @property
    def size(self) -> int:
        return SIZES[self.version]


def parse_header(data: bytes, version: str) -> Header:
    """Read a header of the given layout from the start of unescaped frame content;
    CodecError ``truncated`` when data is shorter than the layout."""
    size = SIZES[version]
    if len(data) < size:
        raise CodecError("truncated", f"a {version} header needs {size} bytes, have {len(data)}")
    fields = _FIXED.unpack_from(data)
    time_s = _TIME.unpack_from(data, _FIXED.size)[0] if version == "2019" else None
    return Header(*fields, time_s, version)


def build_header(msg_id: int, serial: int, access_code: int, body_length: int, *, version: str,
                 version_flag: bytes, encrypted: bool, key: int, time_s: int | None) -> bytes:
    """Header bytes for a body of body_length bytes; ValueError for values the layout
    cannot carry (a 2019 header needs time_s: the codec has no clock)."""
    if version not in SIZES:
        raise ValueError(f"version must be '2011' or '2019', not {version!r}")
    if len(version_flag) != 3:
        raise ValueError(f"version_flag must be 3 bytes, not {version_flag!r}")
    length = SIZES[version] + body_length + FRAMING
    try:
        head = _FIXED.pack(length, serial, msg_id, access_code, version_flag, int(encrypted), key)
        if version == "2011":
            return head
        if time_s is None:
            raise ValueError("a 2019 header needs time_s (UTC seconds)")
        return head + _TIME.pack(time_s)
    except struct.error as error:
        raise ValueError(f"header field out of range: {error}") from error
