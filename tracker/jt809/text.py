"""Fixed-width GBK text fields (plates such as 浙B12345, passwords, IP addresses,
platform ids), padded with NULs on the right.

Decoding strips NULs and spaces (both are used as padding) and turns undecodable
bytes into U+FFFD rather than refusing the message: a plate that does not decode
cannot match the registry anyway, and the frame is kept for the dead letter.
"""
from __future__ import annotations


def read_text(raw: bytes) -> str:
    return raw.decode("gbk", errors="replace").strip("\x00 ")


def write_text(text: str, width: int, name: str) -> bytes:
    """``text`` in GBK, NUL-padded to ``width``; ValueError when it does not fit."""
    try:
        raw = text.encode("gbk")
    except UnicodeEncodeError as error:
        raise ValueError(f"{name} {text!r} is not GBK text") from error
    if len(raw) > width:
        raise ValueError(f"{name} {text!r} is {len(raw)} bytes in GBK, the field holds {width}")
    return raw.ljust(width, b"\x00")
