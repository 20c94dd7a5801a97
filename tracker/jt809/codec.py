"""Decode one JT/T 809 wire frame into a Frame, and encode one.

Receiving order: strip the flags, unescape, read the header of the link's layout,
verify the CRC (over the unescaped bytes between the flags, CRC excluded, so over
the *encrypted* body), check MSG_LENGTH, then decrypt the body with the peer's keys.
Every refusal is a ``CodecError`` carrying the header whenever it could be read.

Quirk ``raw_escape_byte`` (recorded in ``Frame.quirks``, so the link can count it per
peer): a 5A or 5E that starts no escape pair is kept as the byte itself, when the CRC
over the result matches. A real provincial platform sends encrypted bodies so
(vectors guojian_2019_*); the 16-bit CRC is what tells this apart from corruption.
Otherwise such a frame is refused as ``bad_escape``.

The layout ("2011" or "2019") is an argument, not a guess: the header does not say
which it is, and a guess per frame would let one odd frame switch a link's layout.
``login_version`` reads it off the one frame that does tell, the 0x1001 login,
whose two layouts have different lengths.
"""
from __future__ import annotations

from dataclasses import dataclass

from tracker.jt809.crypto import Keys, crypt
from tracker.jt809.errors import CodecError
from tracker.jt809.framing import BEGIN, END, crc16, escape, unescape, unescape_lenient
from tracker.jt809.header import SIZES, build_header, parse_header

LOGIN = 0x1001
_LOGIN_LENGTHS = {72: "2011", 84: "2019"}  # 22 + 46 and 30 + 50, plus flags and CRC
_MSG_ID_AT = 8


@dataclass(frozen=True, slots=True)
class Frame:
    msg_id: int
    version: str  # "2011" or "2019": the header layout read
    serial: int  # MSG_SN
    access_code: int  # MSG_GNSSCENTERID
    version_flag: bytes  # 3 bytes as sent
    encrypted: bool  # the body was encrypted on the wire (``body`` is plaintext)
    key: int  # ENCRYPT_KEY as sent
    time_s: int | None  # 2019 header time, UTC seconds; None in 2011
    body: bytes  # decrypted
    quirks: tuple[str, ...] = ()


def decode(wire: bytes, version: str, keys: Keys | None = None) -> Frame:
    """Decode one frame as FrameReader yields it: escaped, with both flags.

    ``keys`` are the peer's M1/IA1/IC1; an encrypted frame without them is refused
    (``no_keys``) rather than passed on as ciphertext.
    """
    if version not in SIZES:
        raise ValueError(f"version must be '2011' or '2019', not {version!r}")
    content = _content(wire)
    bad_escape: CodecError | None = None
    try:
        data = unescape(content)
    except CodecError as error:
        data, bad_escape = unescape_lenient(content), error
    header = parse_header(data, version)
    if len(data) < header.size + 2:
        raise CodecError("truncated", "no CRC after the header", header)
    crc = int.from_bytes(data[-2:], "big")
    computed = crc16(data[:-2])
    if crc != computed:
        if bad_escape is not None:
            raise CodecError("bad_escape", bad_escape.detail, header)
        raise CodecError("bad_crc", f"frame has {crc:04x}, computed {computed:04x}", header)
    if header.length != len(data) + 2:
        raise CodecError("length_field_mismatch", f"MSG_LENGTH {header.length}, frame {len(data) + 2} bytes",
                         header)
    if header.encrypt_flag not in (0, 1):
        raise CodecError("bad_encrypt_flag", f"ENCRYPT_FLAG {header.encrypt_flag}", header)
    body = data[header.size:-2]
    if header.encrypt_flag:
        if keys is None:
            raise CodecError("no_keys", "encrypted body and no keys for this platform", header)
        body = crypt(body, header.key, keys)
    return Frame(header.msg_id, version, header.serial, header.access_code, header.version_flag,
                 bool(header.encrypt_flag), header.key, header.time_s, body,
                 ("raw_escape_byte",) if bad_escape is not None else ())


def encode(msg_id: int, body: bytes, *, version: str, serial: int, access_code: int,
           time_s: int | None = None, version_flag: bytes = b"\x01\x00\x00",
           keys: Keys | None = None, key: int = 0) -> bytes:
    """The escaped wire frame; the body is encrypted (seeded with ``key``) when keys are
    given. ValueError for values a frame cannot carry; 2019 needs time_s."""
    payload = body if keys is None else crypt(body, key, keys)
    content = build_header(msg_id, serial, access_code, len(payload), version=version,
                           version_flag=version_flag, encrypted=keys is not None, key=key,
                           time_s=time_s) + payload
    return bytes((BEGIN,)) + escape(content + crc16(content).to_bytes(2, "big")) + bytes((END,))


def login_version(wire: bytes) -> str:
    """The layout of a 0x1001 login frame, from its length (72 bytes in 2011, 84 in
    2019); CodecError ``unknown_version`` for any other frame. A server whose peer's
    version is not configured calls this on the first frame of a link."""
    data = unescape(_content(wire))
    msg_id = int.from_bytes(data[_MSG_ID_AT:_MSG_ID_AT + 2], "big")
    version = _LOGIN_LENGTHS.get(len(data) + 2)
    if msg_id != LOGIN or version is None:
        raise CodecError("unknown_version", f"0x{msg_id:04x} frame of {len(data) + 2} bytes is no login "
                                            f"of a known layout")
    return version


def _content(wire: bytes) -> bytes:
    if len(wire) < 2 or wire[0] != BEGIN or wire[-1] != END:
        if not wire:
            raise CodecError("empty", "no bytes")
        raise CodecError("unframed", "a frame starts with 5b and ends with 5d")
    content = bytes(wire[1:-1])
    if not content:
        raise CodecError("empty", "nothing between the flags")
    for flag in (BEGIN, END):
        at = content.find(flag)
        if at >= 0:
            raise CodecError("unescaped_delimiter", f"raw {flag:02x} at offset {at + 1}")
    return content

