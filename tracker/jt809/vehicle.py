"""The vehicle envelope of the 0x1200 (and 2011 0x1400) bodies, and 0x1201 registration.

0x1200 body: plate BYTE[21] (GBK, NUL-padded), plate colour BYTE (1 blue, 2 yellow,
3 black, 4 white, 9 other; 2019 adds green ones), sub-type WORD, length DWORD, data.
The 2019 0x1400 drops plate and colour from the envelope (they moved into each alarm
body), so ``decode_envelope`` reads them only when asked to.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

from tracker.jt809.codec import Frame
from tracker.jt809.errors import CodecError
from tracker.jt809.text import read_text, write_text

REGISTRATION = 0x1201
PLATE = 21

_SUB = struct.Struct(">HI")
# 0x1201 fields: platform id, producer id, terminal model, IMEI (2019), terminal id, SIM
_REGISTRATION_WIDTHS = {"2011": (11, 11, 20, 0, 7, 12), "2019": (11, 11, 30, 15, 30, 13)}


@dataclass(frozen=True, slots=True)
class Envelope:
    plate: str | None  # None where the layout has no vehicle (2019 0x1400)
    colour: int | None
    sub_type: int
    data: bytes


@dataclass(frozen=True, slots=True)
class Registration:
    """0x1201: which terminal a vehicle carries, as the sub-platform registered it."""

    plate: str
    colour: int
    platform_id: str
    producer_id: str
    terminal_model: str
    terminal_id: str
    sim: str
    imei: str | None = None  # 2019 only


def decode_envelope(body: bytes, *, vehicle: bool = True) -> Envelope:
    fixed = (PLATE + 1 if vehicle else 0) + _SUB.size
    if len(body) < fixed:
        raise CodecError("bad_body_length", f"envelope needs {fixed} bytes, have {len(body)}")
    plate, colour = (read_text(body[:PLATE]), body[PLATE]) if vehicle else (None, None)
    sub_type, length = _SUB.unpack_from(body, fixed - _SUB.size)
    if length != len(body) - fixed:
        raise CodecError("bad_body_length", f"sub-type 0x{sub_type:04x} declares {length} bytes, "
                                            f"{len(body) - fixed} follow")
    return Envelope(plate, colour, sub_type, body[fixed:])


def encode_envelope(sub_type: int, data: bytes, plate: str | None = None, colour: int | None = None) -> bytes:
    """The envelope around ``data``; with a vehicle when ``plate`` is given."""
    head = b""
    if plate is not None:
        if colour is None or not 0 <= colour <= 0xFF:
            raise ValueError(f"plate colour {colour!r} is not a byte")
        head = write_text(plate, PLATE, "plate") + bytes((colour,))
    try:
        return head + _SUB.pack(sub_type, len(data)) + data
    except struct.error as error:
        raise ValueError(f"sub-type 0x{sub_type:x} is not a WORD") from error


def decode_registration(frame: Frame) -> Registration:
    """A 0x1200 frame of sub-type 0x1201."""
    envelope, version = decode_envelope(frame.body), frame.version
    widths = _REGISTRATION_WIDTHS[version]
    data = envelope.data
    if envelope.sub_type != REGISTRATION:
        raise CodecError("bad_sub_type", f"0x{envelope.sub_type:04x} is no registration")
    if len(data) != sum(widths):
        raise CodecError("bad_body_length", f"{version} registration needs {sum(widths)} bytes, have {len(data)}")
    fields, at = [], 0
    for width in widths:
        fields.append(read_text(data[at:at + width]))
        at += width
    platform_id, producer_id, model, imei, terminal_id, sim = fields
    return Registration(envelope.plate or "", envelope.colour or 0, platform_id, producer_id, model,
                        terminal_id, sim, imei if version == "2019" else None)


def encode_registration(reg: Registration, version: str) -> bytes:
    """The whole 0x1200 body of a 0x1201 registration."""
    names = ("platform id", "producer id", "terminal model", "IMEI", "terminal id", "SIM")
    values = (reg.platform_id, reg.producer_id, reg.terminal_model, reg.imei or "", reg.terminal_id, reg.sim)
    data = b"".join(write_text(value, width, name)
                    for value, width, name in zip(values, _REGISTRATION_WIDTHS[version], names) if width)
    return encode_envelope(REGISTRATION, data, reg.plate, reg.colour)
