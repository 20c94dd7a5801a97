"""One terminal connection's protocol state, without sockets, a database or a clock.

`Session.receive(data, now_ms)` turns the bytes a connection delivered into what the
server must do, in order: `Reply` (send these bytes), `Inbound` (a whole message to act
on: register, authenticate, report...), `Refused` (a frame that cannot be taken: dead-letter
it), `Close` (a limit was passed). Framing, checksums, subpackage reassembly, the frame
rate and the answers that need no I/O (malformed 2, unsupported 3, each subpackage 0) are
decided here, so a test (hypothesis included) drives it with any bytes. The session also
remembers who the connection authenticated as: only that terminal's reports are taken.

`Holders` is the pure half of takeover: which connection holds which terminal phone, so
a terminal that authenticates on a new connection takes it from the old one.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from tracker.jt808.codec import Frame, decode, encode, phone_key
from tracker.jt808.errors import DecodeError
from tracker.jt808.framing import FrameReader, FramingProblem, RateWindow
from tracker.jt808.messages import (
    AUTHENTICATE,
    BATCH,
    FAILURE,
    HEARTBEAT,
    LOCATION,
    LOGOUT,
    MALFORMED,
    NO_SUCH_TERMINAL,
    NO_SUCH_VEHICLE,
    OK,
    PLATFORM_RESPONSE,
    REGISTER,
    RETRANSMIT_REQUEST,
    TERMINAL_RESPONSE,
    UNSUPPORTED,
    RetransmitRequest,
    encode_general_response,
)
from tracker.jt808.subpackages import Reassembler
from tracker.settings import Jt808Limits

# The messages the gateway acts on (docs/jt808.md "What the gateway answers"); any other id is
# answered 3 (unsupported).
HANDLED = frozenset({TERMINAL_RESPONSE, HEARTBEAT, LOGOUT, REGISTER, AUTHENTICATE, LOCATION, BATCH})
FAILED = FAILURE
# 0x8100 results used here: the plate names another vehicle than the phone's (2: "no such
# vehicle" for this terminal), no vehicle has the phone (4).
REGISTERED, PLATE_MISMATCH, UNKNOWN_TERMINAL = OK, NO_SUCH_VEHICLE, NO_SUCH_TERMINAL
# FrameReader's problems that are limits: the connection is closed for them.
FRAMING_LIMITS = {"too_long": "frame_size", "buffer_limit": "buffer"}


@dataclass(frozen=True)
class Reply:
    wire: bytes
    msg_id: int  # what is sent (0x8001, 0x8003)
    result: int | None  # of a 0x8001


@dataclass(frozen=True)
class Inbound:
    """A whole message to act on; `reply_to` is the header its answer names (the packet
    that completed a subpackaged message), `wire` the frame as received."""

    frame: Frame
    wire: bytes
    reply_to: Frame


@dataclass(frozen=True)
class Refused:
    wire: bytes
    reason: str
    detail: str
    header: object | None  # the readable header, or None


@dataclass(frozen=True)
class Close:
    reason: str


Event = Reply | Inbound | Refused | Close


@dataclass
class Terminal:
    """Who the connection authenticated as."""

    phone: str  # phone key (leading zeros stripped)
    plate: str
    carrier_id: str


@dataclass
class Session:
    limits: Jt808Limits
    terminal: Terminal | None = None
    closed: str | None = None  # the reason, once a limit was passed
    version: str = "2013"  # of the last readable header: what an unprompted 0x8003 uses
    protocol_version: int = 1
    quirks: dict[str, int] = field(default_factory=dict)  # quirk -> frames taken with it
    _serial: int = 0

    def __post_init__(self) -> None:
        self.reader = FrameReader(max_frame_bytes=self.limits.max_frame_bytes,
                                  max_buffer_bytes=self.limits.max_buffer_bytes)
        # Pieces held for reassembly count against the connection's buffer budget.
        self.reassembler = Reassembler(timeout_ms=int(self.limits.subpackage_timeout_s * 1000),
                                       max_bytes=self.limits.max_buffer_bytes)
        self.rate = RateWindow(self.limits.frames_per_s)

    def next_serial(self) -> int:
        serial, self._serial = self._serial, (self._serial + 1) & 0xFFFF
        return serial

    def authorised(self, frame: Frame) -> bool:
        """Is this frame from the terminal the connection authenticated as?"""
        return self.terminal is not None and phone_key(frame.phone) == self.terminal.phone

    def reply(self, header, result: int) -> Reply:
        """The 0x8001 general response to `header` (a Frame or a DecodeError's header), in
        the header version the terminal used."""
        body = encode_general_response(header.serial, header.msg_id, result)
        return Reply(self.answer(header, PLATFORM_RESPONSE, body), PLATFORM_RESPONSE, result)

    def answer(self, header, msg_id: int, body: bytes) -> bytes:
        return encode(msg_id, header.phone, self.next_serial(), body, version=header.version,
                      protocol_version=getattr(header, "protocol_version", None) or 1)

    def receive(self, data: bytes, now_ms: int) -> list[Event]:
        if self.closed:
            return []
        events: list[Event] = []
        for item in self.reader.feed(data):
            if not self.rate.allow(now_ms):
                return self._close(events, "rate")
            if isinstance(item, FramingProblem):
                return self._close(events, FRAMING_LIMITS.get(item.reason, item.reason))
            self._frame(item, now_ms, events)
        if self.reader.limit:
            return self._close(events, "buffer")
        return events

    def _close(self, events: list[Event], reason: str) -> list[Event]:
        self.closed = reason
        events.append(Close(reason))
        return events

    def _frame(self, wire: bytes, now_ms: int, events: list[Event]) -> None:
        try:
            frame = decode(wire, quirks_allowed=self.limits.quirks_allowed)
        except DecodeError as exc:
            events.append(Refused(wire, exc.reason, exc.detail, exc.header))
            if exc.header is not None:
                events.append(self.reply(exc.header, MALFORMED))
            return
        self.version, self.protocol_version = frame.version, frame.protocol_version or 1
        for quirk in frame.quirks or ():
            self.quirks[quirk] = self.quirks.get(quirk, 0) + 1
        if frame.encrypted:
            events.append(Refused(wire, "encrypted", "encrypted bodies are not supported", frame))
            events.append(self.reply(frame, UNSUPPORTED))
            return
        if frame.msg_id not in HANDLED:
            events.append(self.reply(frame, UNSUPPORTED))
            return
        whole = frame
        if frame.subpackage is not None:
            try:
                whole = self.reassembler.add(frame, now_ms)
            except DecodeError as exc:  # more pieces announced than the budget holds
                events.append(Refused(wire, exc.reason, exc.detail, frame))
                events.append(self.reply(frame, MALFORMED))
                return
            if whole is None:  # a packet of a message still incomplete: acknowledged alone
                events.append(self.reply(frame, OK))
                return
        events.append(Inbound(whole, wire, frame))

    def overdue(self, now_ms: int) -> list[Reply]:
        """0x8003 for subpackaged messages whose packets stopped coming."""
        out = []
        for late in self.reassembler.overdue(now_ms):
            header = _Header(late.msg_id, late.phone, 0, self.version, self.protocol_version)
            body = RetransmitRequest(late.first_serial, tuple(late.missing)).encode(self.version)
            out.append(Reply(self.answer(header, RETRANSMIT_REQUEST, body), RETRANSMIT_REQUEST, None))
        return out


@dataclass(frozen=True)
class _Header:
    msg_id: int
    phone: str
    serial: int
    version: str
    protocol_version: int


class Holders:
    """Terminal phone -> the connection that holds it (authenticated as it), in one process."""

    def __init__(self) -> None:
        self._by_phone: dict[str, object] = {}

    def claim(self, phone: str, holder: object) -> object | None:
        """`holder` now holds `phone`; returns the one it took it from (to be closed)."""
        previous = self._by_phone.get(phone)
        self._by_phone[phone] = holder
        return previous if previous is not holder else None

    def release(self, phone: str, holder: object) -> bool:
        """Forget `holder` unless another took the phone over since; True when it held it."""
        if self._by_phone.get(phone) is holder:
            del self._by_phone[phone]
            return True
        return False

    def holder(self, phone: str) -> object | None:
        return self._by_phone.get(phone)

    def phones(self) -> list[str]:
        return list(self._by_phone)

    def __len__(self) -> int:
        return len(self._by_phone)
