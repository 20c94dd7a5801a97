"""Bodies of the session messages: register, authenticate, heartbeat, logout, the
general responses, and the platform's retransmit request.

Text fields are GBK (plates such as 粤A12345). Fixed-width text is padded by
devices with NULs, spaces or (SmallChi) leading ASCII '0'; only NULs and spaces are
stripped, because a leading '0' can be part of a real terminal id ("0567872").
Undecodable bytes become U+FFFD rather than a refusal: a vendor string must not stop
a registration, and a plate that does not decode cannot match the registry anyway.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

from tracker.jt808.codec import Frame
from tracker.jt808.errors import DecodeError

REGISTER = 0x0100
AUTHENTICATE = 0x0102
HEARTBEAT = 0x0002
LOGOUT = 0x0003
TERMINAL_RESPONSE = 0x0001
LOCATION = 0x0200
BATCH = 0x0704
PLATFORM_RESPONSE = 0x8001
RETRANSMIT_REQUEST = 0x8003
REGISTER_RESPONSE = 0x8100
TEXT_MESSAGE = 0x8300

# 0x8300 flag bits: urgent, shown on the terminal's display, read aloud (TTS).
TEXT_URGENT, TEXT_DISPLAY, TEXT_TTS = 1 << 0, 1 << 2, 1 << 3
TEXT_NOTICE = 1  # 2019 text type: 1 notice, 2 service information

# 0x8001 / 0x0001 results
OK, FAILURE, MALFORMED, UNSUPPORTED, ALARM_CONFIRMED = 0, 1, 2, 3, 4
# 0x8100 results (OK is success, with an auth code)
VEHICLE_REGISTERED, NO_SUCH_VEHICLE, TERMINAL_REGISTERED, NO_SUCH_TERMINAL = 1, 2, 3, 4

# 0x0100 field widths (maker, model, terminal id) per layout. 2011 and 2013 share a
# header, so only the body length tells them apart (see decode_register).
_REGISTER_WIDTHS = {"2011": (5, 8, 7), "2013": (5, 20, 7), "2019": (11, 30, 30)}
_REGISTER_FIXED = {layout: 2 + 2 + sum(widths) + 1 for layout, widths in _REGISTER_WIDTHS.items()}
_IMEI = 15
_SOFTWARE_VERSION = 20
_RESPONSE = struct.Struct(">HHB")
_WORD = struct.Struct(">H")
_WORD2 = struct.Struct(">HH")


@dataclass(frozen=True, slots=True)
class Register:
    province: int
    city: int
    maker: str
    model: str
    terminal_id: str
    plate_color: int  # 0 when the vehicle has no plate yet (then plate holds the VIN)
    plate: str
    layout: str  # "2011", "2013" or "2019": which field widths the body used


@dataclass(frozen=True, slots=True)
class Auth:
    code: str
    imei: str | None = None  # 2019 only
    software_version: str | None = None  # 2019 only


@dataclass(frozen=True, slots=True)
class GeneralResponse:
    reply_serial: int
    reply_msg_id: int
    result: int


@dataclass(frozen=True, slots=True)
class RetransmitRequest:
    """0x8003: ask the terminal to re-send pieces of a subpackaged message."""

    first_serial: int  # serial of the message's first piece
    ids: tuple[int, ...]  # the missing packet indexes (from 1)

    def encode(self, version: str) -> bytes:
        """The count is a BYTE in 2013 and a WORD in 2019."""
        count = len(self.ids)
        if count > (0xFF if version == "2013" else 0xFFFF):
            raise ValueError(f"{count} missing pieces do not fit a {version} 0x8003")
        head = _WORD.pack(self.first_serial) + (bytes((count,)) if version == "2013" else _WORD.pack(count))
        return head + b"".join(_WORD.pack(index) for index in self.ids)


def decode_register(frame: Frame) -> Register:
    """0x0100. 2019 frames use the 2019 widths; otherwise a body too short for the
    2013 fixed part is read as 2011 (2011 and 2013 headers are identical)."""
    body = frame.body
    if frame.version == "2019":
        layout = "2019"
    else:
        layout = "2013" if len(body) >= _REGISTER_FIXED["2013"] else "2011"
    fixed = _REGISTER_FIXED[layout]
    if len(body) < fixed:
        raise DecodeError("bad_body_length", f"{layout} registration needs {fixed} bytes, have {len(body)}")
    province, city = _WORD2.unpack_from(body)
    fields = []
    at = 4
    for width in _REGISTER_WIDTHS[layout]:
        fields.append(_text(body[at:at + width]))
        at += width
    maker, model, terminal_id = fields
    return Register(province, city, maker, model, terminal_id, body[at], _text(body[at + 1:]), layout)


def encode_register_response(reply_serial: int, result: int, auth_code: str | None = None) -> bytes:
    """0x8100 body; the auth code is sent only with result 0 (success)."""
    head = _WORD.pack(reply_serial) + bytes((result,))
    if result != OK:
        return head
    if not auth_code:
        raise ValueError("a successful registration needs an auth code")
    return head + auth_code.encode("gbk")


def decode_auth(frame: Frame) -> Auth:
    """0x0102. 2013: the whole body is the code. 2019: code length BYTE, code,
    IMEI BYTE[15], software version BYTE[20]."""
    body = frame.body
    if frame.version != "2019":
        return Auth(_text(body))
    size = body[0] if body else 0
    expected = 1 + size + _IMEI + _SOFTWARE_VERSION
    if len(body) != expected:
        raise DecodeError("bad_body_length", f"2019 authentication with a {size}-byte code needs {expected} "
                                             f"bytes, have {len(body)}")
    imei_at = 1 + size
    return Auth(_text(body[1:imei_at]), _text(body[imei_at:imei_at + _IMEI]), _text(body[imei_at + _IMEI:]))


def encode_text_message(text: str, *, tts: bool, urgent: bool, version: str) -> bytes:
    """0x8300 body: flag BYTE and the GBK text (2013); 2019 puts the text type between.
    UnicodeEncodeError for a text GBK cannot write (the API refuses those first)."""
    flag = TEXT_DISPLAY | (TEXT_TTS if tts else 0) | (TEXT_URGENT if urgent else 0)
    head = bytes((flag, TEXT_NOTICE)) if version == "2019" else bytes((flag,))
    return head + text.encode("gbk")


def decode_text_message(body: bytes, version: str) -> tuple[int, str]:
    """(flag, text) of a 0x8300 body: what a terminal (the simulator's) reads."""
    at = 2 if version == "2019" else 1
    if len(body) < at:
        raise DecodeError("bad_body_length", f"text message needs {at} bytes, have {len(body)}")
    return body[0], _text(body[at:])


def encode_general_response(reply_serial: int, reply_msg_id: int, result: int) -> bytes:
    """0x8001 body (the platform's answer to most terminal messages)."""
    return _RESPONSE.pack(reply_serial, reply_msg_id, result)


def decode_general_response(frame: Frame) -> GeneralResponse:
    """0x0001 (the terminal's answer to platform commands); 0x8001 has the same body."""
    if len(frame.body) != _RESPONSE.size:
        raise DecodeError("bad_body_length", f"general response needs {_RESPONSE.size} bytes, "
                                             f"have {len(frame.body)}")
    return GeneralResponse(*_RESPONSE.unpack(frame.body))


def decode_empty(frame: Frame) -> None:
    """0x0002 heartbeat and 0x0003 logout carry no body in 2013 and 2019."""
    if frame.body:
        raise DecodeError("unexpected_body", f"0x{frame.msg_id:04x} has a {len(frame.body)}-byte body")


def _text(raw: bytes) -> str:
    return raw.decode("gbk", errors="replace").strip("\x00 ")
