"""Bodies of the link messages: login, logout and heartbeat on the main link (0x10xx,
sub-platform to superior) and on the slave link (0x90xx, superior to sub-platform).

The server decodes 0x1001/0x1003/0x1005 and encodes 0x1002/0x1004/0x1006; the upstream
client does the reverse. Heartbeats, their answers and the logout answer have empty
bodies in both versions; only the login gained a field in 2019 (the access code).
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

from tracker.jt809.codec import Frame
from tracker.jt809.errors import CodecError
from tracker.jt809.text import read_text, write_text

LOGIN = 0x1001
LOGIN_RESPONSE = 0x1002
LOGOUT = 0x1003
LOGOUT_RESPONSE = 0x1004
HEARTBEAT = 0x1005
HEARTBEAT_RESPONSE = 0x1006
DYNAMIC = 0x1200  # vehicle positions and registrations (see vehicle, positions)
ALARM = 0x1400  # alarm exchange (see alarms)
SLAVE_LOGIN = 0x9001
SLAVE_LOGIN_RESPONSE = 0x9002
SLAVE_HEARTBEAT = 0x9005
SLAVE_HEARTBEAT_RESPONSE = 0x9006

# 0x1002 results
OK, IP_NOT_ALLOWED, BAD_ACCESS_CODE, NOT_REGISTERED, BAD_PASSWORD, BUSY, OTHER = range(7)

_PASSWORD = 8
_IP = 32
_USER = struct.Struct(">I")
_PORT = struct.Struct(">H")
_LOGIN_SIZE = {"2011": 4 + _PASSWORD + _IP + 2, "2019": 4 + _PASSWORD + 4 + _IP + 2}
_RESPONSE = struct.Struct(">BI")
_DWORD = struct.Struct(">I")
_BYTE = struct.Struct(">B")


@dataclass(frozen=True, slots=True)
class Login:
    """0x1001. access_code is in the 2019 body only (None in 2011, where the header's
    MSG_GNSSCENTERID is the only access code)."""

    user_id: int
    password: str  # up to 8 bytes
    down_link_ip: str  # where the superior may open the slave link
    down_link_port: int
    access_code: int | None = None


@dataclass(frozen=True, slots=True)
class LoginResponse:
    result: int  # OK ... OTHER
    verify_code: int  # the slave link's 0x9001 carries it back


@dataclass(frozen=True, slots=True)
class Logout:
    user_id: int
    password: str


def encode_login(login: Login, version: str) -> bytes:
    access = b""
    if version == "2019":
        if login.access_code is None:
            raise ValueError("a 2019 login carries the access code")
        access = _pack(_DWORD, login.access_code)
    return (_pack(_USER, login.user_id) + write_text(login.password, _PASSWORD, "password") + access
            + write_text(login.down_link_ip, _IP, "down-link IP") + _pack(_PORT, login.down_link_port))


def decode_login(frame: Frame) -> Login:
    body = _sized(frame, _LOGIN_SIZE[frame.version])
    (user_id,) = _USER.unpack_from(body)
    at, access_code = 4 + _PASSWORD, None
    if frame.version == "2019":
        (access_code,) = _DWORD.unpack_from(body, at)
        at += 4
    (port,) = _PORT.unpack_from(body, at + _IP)
    return Login(user_id, read_text(body[4:4 + _PASSWORD]), read_text(body[at:at + _IP]), port, access_code)


def encode_login_response(result: int, verify_code: int) -> bytes:
    """0x1002 body: result BYTE, verify code DWORD (same in 2011 and 2019)."""
    return _pack(_RESPONSE, result, verify_code)


def decode_login_response(frame: Frame) -> LoginResponse:
    return LoginResponse(*_RESPONSE.unpack(_sized(frame, _RESPONSE.size)))


def encode_logout(logout: Logout) -> bytes:
    """0x1003 body: user id DWORD, password BYTE[8]."""
    return _pack(_USER, logout.user_id) + write_text(logout.password, _PASSWORD, "password")


def decode_logout(frame: Frame) -> Logout:
    body = _sized(frame, 4 + _PASSWORD)
    return Logout(_USER.unpack_from(body)[0], read_text(body[4:]))


def encode_slave_login(verify_code: int) -> bytes:
    """0x9001 body: the verify code the sub-platform's 0x1002 handed out."""
    return _pack(_DWORD, verify_code)


def decode_slave_login(frame: Frame) -> int:
    return _DWORD.unpack(_sized(frame, _DWORD.size))[0]


def encode_slave_login_response(result: int) -> bytes:
    """0x9002 body: result BYTE (0 ok, 1 wrong verify code, 2 resources busy, 3 other)."""
    return _pack(_BYTE, result)


def decode_slave_login_response(frame: Frame) -> int:
    return _sized(frame, 1)[0]


def decode_empty(frame: Frame) -> None:
    """0x1004, 0x1005, 0x1006, 0x9005, 0x9006 carry no body."""
    if frame.body:
        raise CodecError("unexpected_body", f"0x{frame.msg_id:04x} has a {len(frame.body)}-byte body")


def _sized(frame: Frame, size: int) -> bytes:
    if len(frame.body) != size:
        raise CodecError("bad_body_length", f"0x{frame.msg_id:04x} ({frame.version}) needs {size} bytes, "
                                            f"have {len(frame.body)}")
    return frame.body


def _pack(layout: struct.Struct, *values: int) -> bytes:
    try:
        return layout.pack(*values)
    except struct.error as error:
        raise ValueError(f"value out of range for the field: {error}") from error
