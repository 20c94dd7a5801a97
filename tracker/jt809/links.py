"""One platform link's protocol state, without sockets, a database or a clock.

`Link.receive(data, now_ms)` splits what the connection delivered into wire frames and
says when a limit was passed (`Close`): frame size, buffer, frame rate. Which layout
(2011 or 2019) and which keys the link's frames are read with is fixed at login, by the
handlers, so `Link.decode` and `Link.answer` read and write in the link's own terms.
Until a login succeeds `platform` is None and nothing but a login is taken.
"""
from __future__ import annotations

from dataclasses import dataclass

from tracker.jt808.framing import FramingProblem, RateWindow
from tracker.jt809.codec import Frame, decode, encode
from tracker.jt809.crypto import Keys
from tracker.jt809.framing import FrameReader
from tracker.settings import Jt809Limits

# FrameReader's problems that are limits: the link is closed for them.
FRAMING_LIMITS = {"too_long": "frame_size", "buffer_limit": "buffer"}


@dataclass(frozen=True)
class Close:
    reason: str
    raw: bytes = b""  # what the limit cut off (the start of an over-long frame), for the dead letter


@dataclass(frozen=True)
class Platform:
    """Who the link logged in as."""

    id: str
    carrier_ids: frozenset[str]
    access_code: int
    keys: Keys | None


class Link:
    def __init__(self, limits: Jt809Limits) -> None:
        self.limits = limits
        self.reader = FrameReader(limits.max_frame_bytes, limits.max_buffer_bytes)
        self.rate = RateWindow(limits.frames_per_s)
        self.platform: Platform | None = None
        self.version: str | None = None  # fixed by the login
        self.failures = 0  # refused logins on this link
        self.closed: str | None = None
        self._serial = 0

    def receive(self, data: bytes, now_ms: int) -> list[bytes | Close]:
        """Wire frames (both flags included), then a Close when a limit was passed."""
        if self.closed:
            return []
        out: list[bytes | Close] = []
        for item in self.reader.feed(data):
            if not self.rate.allow(now_ms):
                return self._close(out, Close("rate"))
            if isinstance(item, FramingProblem):
                return self._close(out, Close(FRAMING_LIMITS.get(item.reason, item.reason), item.raw))
            out.append(item)
        if self.reader.limit:
            return self._close(out, Close("buffer"))
        return out

    def _close(self, out: list, close: Close) -> list:
        self.closed = close.reason
        out.append(close)
        return out

    def decode(self, wire: bytes) -> Frame:
        """A frame of a logged-in link (CodecError for anything else)."""
        return decode(wire, self.version, self.platform.keys if self.platform else None)

    def answer(self, msg_id: int, body: bytes, now_s: int, *, version: str | None = None,
               access_code: int | None = None, keys: Keys | None = None) -> bytes:
        """A frame to the platform: in the link's layout, with its access code and, when
        it has keys, an encrypted body (seeded with the serial); the arguments serve the
        login's answer, written before the link is established."""
        self._serial = (self._serial + 1) & 0xFFFFFFFF
        platform = self.platform
        version = version or self.version
        if platform is not None:
            access_code = platform.access_code if access_code is None else access_code
            keys = keys or platform.keys
        return encode(msg_id, body, version=version, serial=self._serial, access_code=access_code or 0,
                      time_s=now_s if version == "2019" else None, keys=keys, key=self._serial if keys else 0)
