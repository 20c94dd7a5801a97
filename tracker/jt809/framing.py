"""Byte-level framing of JT/T 809: the 5B ... 5D flags, the 5A/5E escapes, the CRC, and
the splitting of a TCP byte stream into frames.

A frame on the wire is ``5B escaped(header + body + CRC) 5D``. Escaping turns 5B into
5A 01, 5A into 5A 02, 5D into 5E 01 and 5E into 5E 02, so neither flag occurs inside
a frame. Unlike JT/T 808 the two flags differ, which gives the stream splitter one
more rule: bytes between a 5D and the next 5B belong to no frame (they are only
counted), and a 5B inside an open frame means that frame never ended (its bytes are
handed on as a candidate that ``codec.decode`` refuses as ``unframed``, so they are
dead-lettered rather than lost silently).
"""
from __future__ import annotations

import binascii

from tracker.jt808.framing import FramingProblem
from tracker.jt809.errors import CodecError

BEGIN = 0x5B
END = 0x5D
_PAIRS = (b"\x5a\x01", b"\x5a\x02", b"\x5e\x01", b"\x5e\x02")


def escape(content: bytes) -> bytes:
    """Escape header + body + CRC for the wire (5A and 5E first, so the escape bytes
    that 5B and 5D become are not escaped again)."""
    return (content.replace(b"\x5a", b"\x5a\x02").replace(b"\x5b", b"\x5a\x01")
            .replace(b"\x5e", b"\x5e\x02").replace(b"\x5d", b"\x5e\x01"))


def unescape(content: bytes) -> bytes:
    """Undo ``escape``; CodecError ``bad_escape`` for a 5A or 5E not followed by 01/02.

    bytes.count/replace (C loops) instead of a byte loop: the four pairs cannot
    overlap, so the counts agree exactly when every 5A and 5E starts a pair. The
    ``01`` pairs are replaced first, so the 5A or 5E a ``02`` pair leaves behind
    cannot be read as the start of another pair.
    """
    if b"\x5a" not in content and b"\x5e" not in content:
        return content
    valid = sum(content.count(pair) for pair in _PAIRS)
    if content.count(b"\x5a") + content.count(b"\x5e") != valid:
        at = _first_bad_escape(content)
        raise CodecError("bad_escape", f"{content[at:at + 2].hex()} at offset {at}")
    return unescape_lenient(content)


def unescape_lenient(content: bytes) -> bytes:
    """Undo the escape pairs and keep a 5A or 5E that starts none as the byte itself,
    as some real platforms send it (codec.decode accepts that only when the CRC of
    the result matches)."""
    return (content.replace(b"\x5a\x01", b"\x5b").replace(b"\x5a\x02", b"\x5a")
            .replace(b"\x5e\x01", b"\x5d").replace(b"\x5e\x02", b"\x5e"))


def _first_bad_escape(content: bytes) -> int:
    for at, byte in enumerate(content):
        if byte in (0x5A, 0x5E) and content[at:at + 2] not in _PAIRS:
            return at
        # the second byte of a valid pair is 01 or 02, never 5A/5E, so no skip is needed
    return len(content)


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final XOR),
    which is binascii's CRC-CCITT started at 0xFFFF: a C loop, not a Python one."""
    return binascii.crc_hqx(data, 0xFFFF)


class FrameReader:
    """Split a TCP byte stream into wire frames, with memory bounded by max_frame_bytes.

    ``feed`` returns each complete frame as its escaped wire bytes *including* both
    flags (the form ``codec.decode`` takes and the form captured in platform logs), a
    frame cut short by a new 5B as its bytes without the 5D (``decode`` refuses it),
    and FramingProblem ``too_long`` for a frame over max_frame_bytes (skipped up to
    its 5D, at most its first max_frame_bytes kept for the dead letter). ``limit``
    becomes True when max_buffer_bytes pass without a flag; the reader then ignores
    further input and the link closes the connection.
    """

    def __init__(self, max_frame_bytes: int = 8192, max_buffer_bytes: int = 65536) -> None:
        if not 4 <= max_frame_bytes <= max_buffer_bytes:
            raise ValueError("need 4 <= max_frame_bytes <= max_buffer_bytes")
        self.max_frame_bytes = max_frame_bytes
        self.max_buffer_bytes = max_buffer_bytes
        self.limit = False
        self.discarded_bytes = 0  # outside frames, and inside over-long ones
        self._open = False  # a 5B has opened a frame that no 5D has closed yet
        self._run = bytearray()  # the open frame's bytes after 5B, at most max_frame_bytes - 2
        self._run_len = 0  # bytes since the last flag, kept or not

    @property
    def buffered(self) -> int:
        """Bytes held for the frame in progress (0 between frames)."""
        return len(self._run)

    def feed(self, data: bytes) -> list[bytes | FramingProblem]:
        if self.limit:
            return []
        out: list[bytes | FramingProblem] = []
        size, at = len(data), 0
        next_begin, next_end = _find(data, BEGIN, 0), _find(data, END, 0)
        while True:
            flag = min(next_begin, next_end) if self._open else next_begin
            self._take(data, at, flag)
            if flag == size:
                break
            if flag == next_begin:
                if self._open:
                    self._close(out, b"")  # cut short by a new frame
                self._open, self._run_len = True, 0
                next_begin = _find(data, BEGIN, flag + 1)
            else:
                self._close(out, b"\x5d")
                self._open = False
                next_end = _find(data, END, flag + 1)
            if next_end <= flag:  # 5Ds between frames were skipped as garbage
                next_end = _find(data, END, flag + 1)
            at = flag + 1
        if self._run_len > self.max_buffer_bytes:
            self.limit = True
            out.append(FramingProblem("buffer_limit", bytes(self._run)))
            self._run = bytearray()
        return out

    def _take(self, data: bytes, start: int, end: int) -> None:
        """Add data[start:end] (no flag that matters in it) to the current run."""
        if start == end:
            return
        if self._open:
            room = self.max_frame_bytes - 2 - len(self._run)
            if room > 0:
                self._run += data[start:min(end, start + room)]
        else:
            self.discarded_bytes += end - start
        self._run_len += end - start

    def _close(self, out: list[bytes | FramingProblem], tail: bytes) -> None:
        run_len, run = self._run_len, bytes(self._run)
        self._run.clear()
        self._run_len = 0
        if run_len + 2 > self.max_frame_bytes:
            self.discarded_bytes += run_len
            out.append(FramingProblem("too_long", b"\x5b" + run))
        else:
            out.append(b"\x5b" + run + tail)


def _find(data: bytes, flag: int, start: int) -> int:
    """Index of the next flag at or after start, or len(data) when there is none."""
    at = data.find(flag, start)
    return len(data) if at < 0 else at
