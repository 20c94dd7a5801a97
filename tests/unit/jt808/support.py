"""The shared JT/T 808 test vectors (tests/data/jt808/vectors.json, copied from the
project's protocol notes) and the fuzzing budget."""
from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

from hypothesis import HealthCheck, settings

VECTORS = json.loads((Path(__file__).parents[2] / "data" / "jt808" / "vectors.json").read_text("utf-8"))
GOOD = VECTORS["vectors"]
QUIRKS = VECTORS["quirks_lenient"]
BROKEN = VECTORS["broken"]
BY_ID = {vector["id"]: vector for vector in GOOD + QUIRKS + BROKEN}

# `make fuzz` raises the budget; the default keeps tests/unit/jt808 at a few seconds.
FUZZ_EXAMPLES = int(os.environ.get("HAZMAT_FUZZ_EXAMPLES", "200"))
FUZZ = settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# 50 ms an example: ten times the slowest property's ~5 ms on the shared 2-core machine,
# where the suite's 120 s per test would be too short at 20 000 examples.
FUZZ_TIMEOUT_S = max(120, FUZZ_EXAMPLES // 20)

_BEIJING = timezone(timedelta(hours=8))


def wire(vector_id: str) -> bytes:
    return bytes.fromhex(BY_ID[vector_id]["hex"])


def expected(vector: dict) -> dict:
    return vector.get("expected") or vector["lenient_decode_expected"]


def beijing_ms(text: str) -> int:
    """'2018-07-15 10:10:10' in Beijing time as epoch ms UTC."""
    return int(datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=_BEIJING).timestamp() * 1000)


def even_hex(text: str) -> bytes:
    """Bytes of a hex string whose odd trailing nibble is dropped, as Go's
    hex.DecodeString did for the go-jt808 stream vectors."""
    return bytes.fromhex(text[: len(text) // 2 * 2])
