"""Byte-level framing of JT/T 808: 0x7E delimiters, 0x7D escaping, the XOR checksum,
and the splitting of a TCP byte stream into frames.

A frame on the wire is ``7E escaped(header + body + checksum) 7E``; escaping turns 7E
into 7D 02 and 7D into 7D 01, so 7E never occurs inside a frame. The stream splitter
therefore needs no knowledge of headers: every non-empty run of bytes between two 7E
is one candidate frame. That one rule covers frames split over reads, several frames
in one read, back-to-back ``7E 7E`` and devices that share one 7E between two frames.
Garbage between frames becomes a candidate that ``codec.decode`` refuses (so it is
dead-lettered and counted, not lost silently); bytes before the first 7E of a
connection cannot be a frame and are only counted.
"""
from __future__ import annotations

from dataclasses import dataclass

from tracker.jt808.errors import DecodeError

DELIMITER = 0x7E
ESCAPE = 0x7D


def escape(content: bytes) -> bytes:
    """Escape header + body + checksum for the wire (7D first, so 7E's 7D stays)."""
    return content.replace(b"\x7d", b"\x7d\x01").replace(b"\x7e", b"\x7d\x02")


def unescape(content: bytes) -> bytes:
    """Undo ``escape``; DecodeError ``bad_escape`` for a 7D not followed by 01 or 02.

    Uses bytes.count/replace (C loops) instead of a Python byte loop: every 7D must
    start a 7D 01 or 7D 02 pair, and those two patterns cannot overlap, so the counts
    agree exactly when the escaping is valid.
    """
    if ESCAPE not in content:
        return content
    pairs = content.count(b"\x7d\x01") + content.count(b"\x7d\x02")
    if content.count(b"\x7d") != pairs:
        at = _first_bad_escape(content)
        raise DecodeError("bad_escape", f"7d {content[at + 1:at + 2].hex() or 'at end'} at offset {at}")
    return content.replace(b"\x7d\x02", b"\x7e").replace(b"\x7d\x01", b"\x7d")


def unescape_prefix(content: bytes) -> bytes:
    """The unescaped bytes before the first bad escape: enough to read the header of a
    frame refused for a bad escape further on, so the terminal still gets an answer."""
    return unescape(content[: _first_bad_escape(content)])


def _first_bad_escape(content: bytes) -> int:
    at = content.find(b"\x7d")
    while at >= 0:
        if content[at + 1:at + 2] not in (b"\x01", b"\x02"):
            return at
        at = content.find(b"\x7d", at + 2)
    return len(content)


def xor_checksum(data: bytes) -> int:
    """XOR of all bytes, computed by folding one big integer in halves: XOR-ing the two
    halves byte-aligned keeps the XOR of all bytes, and each fold is a C-level
    operation, so a 1 KiB body costs ~10 big-int steps instead of 1024 Python ones."""
    value = int.from_bytes(data, "big")
    size = len(data)
    while size > 1:
        low = (size + 1) // 2
        bits = 8 * low
        value = (value >> bits) ^ (value & ((1 << bits) - 1))
        size = low
    return value


@dataclass(frozen=True, slots=True)
class FramingProblem:
    """A run of stream bytes that cannot be a frame.

    reason: ``too_long`` (a run between delimiters over max_frame_bytes; the stream
    resynchronises at the next 7E) or ``buffer_limit`` (no delimiter within
    max_buffer_bytes; the reader stops, see FrameReader.limit). ``raw`` is at most the
    first max_frame_bytes of the run, for the dead-letter record.
    """

    reason: str
    raw: bytes


class FrameReader:
    """Split a TCP byte stream into wire frames, with memory bounded by max_frame_bytes.

    ``feed`` returns each complete frame as its escaped wire bytes *including* both 7E
    delimiters (the form ``codec.decode`` takes and the form captured in device logs),
    and FramingProblem for runs that cannot be frames. The reader never holds more
    than max_frame_bytes of a run: a longer one is skipped up to the next 7E and only
    counted. ``limit`` becomes True when max_buffer_bytes pass without a delimiter;
    the reader then ignores further input and the gateway closes the connection.
    """

    def __init__(self, max_frame_bytes: int = 2100, max_buffer_bytes: int = 65536) -> None:
        if not 4 <= max_frame_bytes <= max_buffer_bytes:
            raise ValueError("need 4 <= max_frame_bytes <= max_buffer_bytes")
        self.max_frame_bytes = max_frame_bytes
        self.max_buffer_bytes = max_buffer_bytes
        self.limit = False
        self.discarded_bytes = 0  # before the first 7E, and inside over-long runs
        self._synced = False  # a 7E has been seen, so the current run may be a frame
        self._run = bytearray()  # the current run, at most max_frame_bytes - 2 kept
        self._run_len = 0  # the whole current run, kept or skipped

    @property
    def buffered(self) -> int:
        """Bytes held for the frame in progress (0 between frames)."""
        return len(self._run)

    def feed(self, data: bytes) -> list[bytes | FramingProblem]:
        if self.limit:
            return []
        out: list[bytes | FramingProblem] = []
        start = 0
        end = data.find(DELIMITER)
        while end >= 0:
            self._take(data, start, end)
            self._close_run(out)
            start = end + 1
            end = data.find(DELIMITER, start)
        self._take(data, start, len(data))
        if self._run_len > self.max_buffer_bytes:
            self.limit = True
            out.append(FramingProblem("buffer_limit", bytes(self._run)))
            self._run = bytearray()
        return out

    def _take(self, data: bytes, start: int, end: int) -> None:
        """Add data[start:end] (no 7E in it) to the current run, keeping what fits."""
        if start == end:
            return
        room = self.max_frame_bytes - 2 - len(self._run)
        if room > 0:
            self._run += data[start:min(end, start + room)]
        self._run_len += end - start

    def _close_run(self, out: list[bytes | FramingProblem]) -> None:
        """A 7E ends the current run (and opens the next one)."""
        run_len, run = self._run_len, bytes(self._run)
        self._run.clear()
        self._run_len = 0
        if not self._synced:
            self._synced = True
            self.discarded_bytes += run_len
        elif run_len + 2 > self.max_frame_bytes:
            self.discarded_bytes += run_len
            out.append(FramingProblem("too_long", b"\x7e" + run))
        elif run_len:
            out.append(b"\x7e" + run + b"\x7e")


@dataclass
class RateWindow:
    """At most `limit` frames in any one-second window that starts with a frame (each
    gateway's per-connection frame rate: JT/T 808 and JT/T 809 alike)."""

    limit: int
    started_ms: int = -(10**15)
    count: int = 0

    def allow(self, now_ms: int) -> bool:
        if now_ms - self.started_ms >= 1000:
            self.started_ms, self.count = now_ms, 0
        self.count += 1
        return self.count <= self.limit
