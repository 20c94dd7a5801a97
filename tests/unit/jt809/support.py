"""The JT/T 809 test vectors (tests/data/jt809/vectors.json), helpers to wrap bodies
in frames, and the fuzzing budget (HAZMAT_FUZZ_EXAMPLES, as for JT/T 808)."""
from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

from hypothesis import HealthCheck, settings

from tracker.jt809 import Frame, Keys

VECTORS = json.loads((Path(__file__).parents[2] / "data" / "jt809" / "vectors.json").read_text("utf-8"))
FRAMES = VECTORS["frames"]
BODIES = VECTORS["bodies"]
KEYS = {name: Keys(spec["m1"], spec["ia1"], spec["ic1"]) for name, spec in VECTORS["keys"].items()}

FUZZ_EXAMPLES = int(os.environ.get("HAZMAT_FUZZ_EXAMPLES", "200"))
FUZZ = settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FUZZ_TIMEOUT_S = max(120, FUZZ_EXAMPLES // 20)

_BEIJING = timezone(timedelta(hours=8))


def keys_of(vector: dict) -> Keys | None:
    return KEYS[vector["keys"]] if vector["keys"] else None


def frame_of(msg_id: int, body: bytes, version: str) -> Frame:
    """A decoded frame around ``body``, for the body decoders."""
    return Frame(msg_id, version, 1, 20180920, b"\x01\x00\x00", False, 0, 0 if version == "2019" else None, body)


def beijing_ms(text: str) -> int:
    """'2012-07-19 15:15:15' in Beijing time as epoch ms UTC."""
    return int(datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=_BEIJING).timestamp() * 1000)
