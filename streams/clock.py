"""Each partition's clock, and when a check that needs the fixes around a moment is due.

Verdicts run on event time, and a vehicle's timers on its own partition's time, never on
another partition's: one partition fetched ahead (or a day's backlog read unevenly) must
not time out vehicles whose fixes are still waiting in theirs (docs/rules.md, "Judged on
the vehicle's own time").

A partition's event time is the newest fix handled there, each fix counting for no more
than when it was received: a terminal whose clock runs minutes fast (the intake accepts 5)
cannot move its neighbours' timers past their own fixes. Once the partition is quiet (no
records for a while, and the broker's end reached), time goes on at the wall clock's pace
from that fix, anchored on when it was received: a live partition follows the wall clock,
and one whose newest fix was a backlog's (received hours after it was taken) stays as far
behind as the backlog was, so a pause in a carrier's catch-up upload times nobody out.

Pure: the worker feeds fixes and asks for the time; a test drives it with any interleaving.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class PartitionClock:
    event_ms: int | None = None  # the newest fix handled, bounded by its receipt
    received_ms: int | None = None  # when that fix was received (epoch ms)

    def advance(self, ts: int, received_ms: int) -> None:
        bounded = min(ts, received_ms)
        if self.event_ms is None or bounded > self.event_ms:
            self.event_ms, self.received_ms = bounded, received_ms

    def now(self, wall_ms: int, quiet: bool) -> int | None:
        """The timers' time: event time while records come; once quiet, event time carried
        on at the wall clock's pace since the newest fix was received (the wall clock itself
        when nothing was ever handled here)."""
        if not quiet:
            return self.event_ms
        if self.event_ms is None:
            return wall_ms
        return self.event_ms + max(0, wall_ms - self.received_ms)


def advance_all(clocks: dict[int, PartitionClock], fixes: list[dict], home) -> None:
    """Feed a batch's fixes to their home partitions' clocks (`home(plate)` -> partition):
    each vehicle's newest bounded time first, so `home` is asked once a vehicle."""
    newest: dict[str, tuple[int, int]] = {}
    for f in fixes:
        ts = f["ts"]
        received = f.get("received_at", ts)
        bounded = ts if ts < received else received
        known = newest.get(f["plate"])
        if known is None or bounded > known[0]:
            newest[f["plate"]] = (bounded, received)
    for plate, (bounded, received) in newest.items():
        clock = clocks.get(p := home(plate))
        if clock is None:
            clock = clocks[p] = PartitionClock()
        clock.advance(bounded, received)


@dataclass(frozen=True, slots=True)
class WindowClocks:
    """What is known, at decision time, of how far a vehicle's track has got: its newest
    stored fix, its partition's event time, and (while its worker calls it quiet) the
    partition's timer clock with the wall time it was taken at."""

    vehicle_last_ms: int | None = None
    partition_event_ms: int | None = None
    quiet_clock_ms: int | None = None  # None: the partition is busy, or its worker silent
    known: bool = False  # a fix worker has ever stored this partition's time


def window_due(end_ms: int, clocks: WindowClocks, wall_ms: int, wait_ms: int) -> bool:
    """Is the track complete up to `end_ms`, so a check of the fixes around a moment can be
    decided? Yes once the vehicle's own fixes or its partition's event time have passed the
    end; or, when nothing comes (the partition quiet, or never heard of), once `wait_ms`
    more has passed on the quiet clock or the wall clock. A partition still working through
    a backlog (or whose worker is down) is waited for: its fixes around the moment may be
    next in line."""
    if clocks.vehicle_last_ms is not None and clocks.vehicle_last_ms >= end_ms:
        return True
    if clocks.partition_event_ms is not None and clocks.partition_event_ms >= end_ms:
        return True
    if clocks.quiet_clock_ms is not None:
        return clocks.quiet_clock_ms >= end_ms + wait_ms
    return not clocks.known and wall_ms >= end_ms + wait_ms
