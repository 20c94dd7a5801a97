"""Reassembly of subpackaged messages (properties bit 13: total and index in the header).

Pieces are grouped by (phone, message id, total) and put together by index, not by
serial: real terminals do not number pieces consecutively (the SmallChi 0x0104 pair
is serials 1233 and 1250, index 1 and 2), so "serial - index + 1" only estimates the
first piece's serial. ``Overdue.first_serial_known`` says whether it is that estimate
or the serial of piece 1 itself, which the 0x8003 request should name.

A piece whose index is already held replaces it (it is the terminal's retransmission).
Memory is bounded by max_pending messages and max_bytes of held bodies; past either,
the least recently extended message is dropped and counted in ``dropped``.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from tracker.jt808.codec import Frame
from tracker.jt808.errors import DecodeError
from tracker.jt808.header import MAX_BODY


@dataclass(frozen=True, slots=True)
class Overdue:
    """A message still missing pieces after the timeout: ask for them with 0x8003."""

    phone: str
    msg_id: int
    first_serial: int
    missing: list[int]
    first_serial_known: bool


@dataclass(slots=True)
class _Pending:
    total: int
    deadline_ms: int
    pieces: dict[int, Frame] = field(default_factory=dict)
    size: int = 0
    requests: int = 0


class Reassembler:
    """Collect pieces until a message is whole.

    timeout_ms: silence after which the missing pieces are reported by ``overdue``;
    each message is reported at most max_requests times, then dropped.
    """

    def __init__(self, timeout_ms: int = 30000, max_pending: int = 16, max_bytes: int = 1 << 20,
                 max_requests: int = 2) -> None:
        self.timeout_ms = timeout_ms
        self.max_pending = max_pending
        self.max_bytes = max_bytes
        self.max_requests = max_requests
        self.dropped = 0
        self._pending: dict[tuple[str, int, int], _Pending] = {}  # oldest activity first
        self._bytes = 0

    @property
    def pending_bytes(self) -> int:
        return self._bytes

    def add(self, frame: Frame, now_ms: int) -> Frame | None:
        """The whole message when this piece completes it, else None.

        A frame without subpackage comes back as it is. DecodeError ``too_long`` for a
        message whose announced size could never fit max_bytes.
        """
        if frame.subpackage is None:
            return frame
        total, index = frame.subpackage
        if total * MAX_BODY > self.max_bytes:
            raise DecodeError("too_long", f"{total} pieces of up to {MAX_BODY} bytes exceed the "
                                          f"reassembly budget of {self.max_bytes} bytes")
        key = (frame.phone, frame.msg_id, total)
        pending = self._pending.pop(key, None) or _Pending(total, 0)
        self._pending[key] = pending  # re-inserted: now the most recent
        old = pending.pieces.get(index)
        grown = len(frame.body) - (len(old.body) if old else 0)
        pending.pieces[index] = frame
        pending.size += grown
        self._bytes += grown
        pending.deadline_ms = now_ms + self.timeout_ms
        if len(pending.pieces) == total:
            self._forget(key)
            return _joined(pending)
        while len(self._pending) > self.max_pending or self._bytes > self.max_bytes:
            self._forget(next(iter(self._pending)))
            self.dropped += 1
        return None

    def overdue(self, now_ms: int) -> list[Overdue]:
        """Messages silent for timeout_ms; each report restarts its timeout."""
        due = []
        for key, pending in list(self._pending.items()):
            if pending.deadline_ms > now_ms:
                continue
            if pending.requests >= self.max_requests:
                self._forget(key)
                self.dropped += 1
                continue
            pending.requests += 1
            pending.deadline_ms = now_ms + self.timeout_ms
            phone, msg_id, total = key
            missing = [index for index in range(1, total + 1) if index not in pending.pieces]
            first = pending.pieces.get(1)
            if first is not None:
                due.append(Overdue(phone, msg_id, first.serial, missing, True))
            else:
                index = min(pending.pieces)
                estimate = (pending.pieces[index].serial - index + 1) & 0xFFFF
                due.append(Overdue(phone, msg_id, estimate, missing, False))
        return due

    def _forget(self, key: tuple[str, int, int]) -> None:
        self._bytes -= self._pending.pop(key).size


def _joined(pending: _Pending) -> Frame:
    """One frame from all pieces: piece 1's header fields, the bodies in index order,
    every quirk any piece showed."""
    pieces = [pending.pieces[index] for index in range(1, pending.total + 1)]
    quirks = tuple(dict.fromkeys(quirk for piece in pieces for quirk in piece.quirks))
    return replace(pieces[0], subpackage=None, body=b"".join(piece.body for piece in pieces), quirks=quirks)
