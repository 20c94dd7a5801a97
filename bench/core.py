"""The pure core alone (geofencing and every rule, no broker, no database): fixes/s of
`streams.batch.process` over bench.worker's fleet stream and geofences, best of three,
beside the yardstick loop. For comparing two versions of the rules on one machine in one
sitting, where the end-to-end benchmark's broker and database add noise.

Run: `.venv/bin/python -m bench.core` (also `make bench`).
"""
from __future__ import annotations

import argparse
import random
import time

from bench.worker import fleet_stream, geofence_features, python_speed, stream_start
from geofence.index import GeofenceIndex
from geofence.model import compile_geofence
from streams.batch import process
from streams.rules.config import RuleConfig
from streams.rules.engine import Context


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixes", type=int, default=300_000)
    parser.add_argument("--vehicles", type=int, default=668)
    args = parser.parse_args()
    rng = random.Random(7)
    index = GeofenceIndex()
    for gid, geometry, properties in geofence_features(rng):
        index.put(compile_geofence(gid, 1, geometry, properties))
    fixes = fleet_stream(args.vehicles, args.fixes // args.vehicles, stream_start(), rng)
    print(f"yardstick: {python_speed():.0f} ms for sum(range(10**7)); {len(fixes)} fixes, {len(index.geofences)} geofences")
    best = 0.0
    for _ in range(3):
        ctx, states = Context(index, lambda plate, ts: None, RuleConfig()), {}
        copies = [dict(f) for f in fixes]
        started = time.perf_counter()
        events = 0
        for i in range(0, len(copies), 8000):
            events += len(process(copies[i:i + 8000], states, ctx).events)
        best = max(best, len(fixes) / (time.perf_counter() - started))
    print(f"pure core: {best:,.0f} fixes/s (best of 3), {events} events")


if __name__ == "__main__":
    main()
