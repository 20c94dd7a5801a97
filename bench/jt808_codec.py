"""JT/T 808 codec throughput on one core: location (0x0200) and batch (0x0704) frames
decoded per CPU second, beside the ceiling of what any Python decoder must at least do
(slice every frame out of the stream; slice and unescape it).

Frames look like a tanker's: 2013 header, alarm/status/position, mileage, signal and
satellites items; about one in four carries an escape. Batches hold 10 reports.
Times are CPU seconds of this process (best of --repeat), so other load on a shared
machine stretches wall time but not the per-core figure much.

Run: `.venv/bin/python -m bench.jt808_codec`.
"""
from __future__ import annotations

import argparse
import os
import platform
import random
import time
from collections.abc import Callable

from tracker.jt808 import FrameReader, decode, encode
from tracker.jt808.framing import unescape
from tracker.jt808.location import Location, decode_batch, decode_location, encode_batch, encode_location

T0 = 1_764_720_000_000  # 2025-12-03


def location(rng: random.Random, i: int) -> Location:
    items = {0x01: rng.randrange(10**6).to_bytes(4, "big"), 0x30: bytes((rng.randrange(32),)),
             0x31: bytes((rng.randrange(4, 20),))}
    # Every 4th latitude is 0x01C87E00 (29.916672°), so the escape path is exercised.
    lat = 29.9 + rng.random() * 0.1 if i % 4 else 29.916672
    return Location(0, 0x000C0003, lat, 121.8 + rng.random() * 0.2, 12, rng.randrange(900) / 10,
                    rng.randrange(360), T0 + i * 30_000, items)


def frames(count: int, batch: int) -> list[bytes]:
    rng = random.Random(808)
    out = []
    for i in range(count):
        phone = f"0139{i % 10_000:08d}"
        if batch:
            body = encode_batch(1, [location(rng, i * batch + j) for j in range(batch)])
            out.append(encode(0x0704, phone, i & 0xFFFF, body, version="2013"))
        else:
            out.append(encode(0x0200, phone, i & 0xFFFF, encode_location(location(rng, i)), version="2013"))
    return out


def cpu_rate(work: Callable[[], int], repeat: int) -> float:
    """Items per CPU second, best of repeat."""
    best = 0.0
    for _ in range(repeat):
        start = time.process_time()
        items = work()
        best = max(best, items / (time.process_time() - start))
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
                 "?") if os.path.exists("/proc/cpuinfo") else "?"
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores ({model}), Python {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.2f} at start")

    locations = frames(args.frames, 0)
    batches = frames(args.frames // 10, 10)
    stream = b"".join(locations)
    size = sum(map(len, locations)) / len(locations)
    escaped = sum(0x7D in wire for wire in locations)
    print(f"{len(locations)} location frames ({size:.0f} bytes each, {escaped} with escapes); "
          f"{len(batches)} batch frames of 10 reports")

    def slice_only() -> int:
        for wire in locations:
            wire[1:-1]
        return len(locations)

    def unescape_only() -> int:
        for wire in locations:
            unescape(wire[1:-1])
        return len(locations)

    def frame_only() -> int:
        for wire in locations:
            decode(wire)
        return len(locations)

    def location_full() -> int:
        for wire in locations:
            decode_location(decode(wire).body)
        return len(locations)

    def stream_full() -> int:
        reader = FrameReader()
        count = 0
        for at in range(0, len(stream), 4096):
            for wire in reader.feed(stream[at:at + 4096]):
                decode_location(decode(wire).body)
                count += 1
        return count

    def batch_full() -> int:
        for wire in batches:
            decode_batch(decode(wire).body)
        return len(batches)

    rows = [
        ("ceiling: slice each frame out (bytes copy)", slice_only, "frames"),
        ("ceiling: slice + unescape", unescape_only, "frames"),
        ("decode() frame only (unescape, checksum, header)", frame_only, "frames"),
        ("0x0200: decode() + decode_location()", location_full, "frames"),
        ("0x0200: FrameReader (4 KiB reads) + decode + location", stream_full, "frames"),
        ("0x0704 of 10: decode() + decode_batch()", batch_full, "frames"),
    ]
    for name, work, unit in rows:
        rate = cpu_rate(work, args.repeat)
        extra = f" = {rate * 10:,.0f} reports/s" if work is batch_full else f" ({1e6 / rate:.2f} us each)"
        print(f"{name:58s} {rate:12,.0f} {unit}/s per core{extra}")


if __name__ == "__main__":
    main()
