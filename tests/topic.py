"""Reading a topic back in tests, through the same client module the system uses."""
from __future__ import annotations

import asyncio
from collections.abc import Callable

import orjson

from streams.kafka import consumer


async def read_topic(bootstrap: str, topic: str, count: int, timeout_s: float = 20.0,
                     wanted: Callable[[dict], bool] | None = None) -> list[tuple[str | None, dict]]:
    """The first `count` messages of `topic` (those whose value is `wanted`) as (key, value);
    fails if fewer arrive in time."""
    c = consumer(bootstrap, [topic], group_id=None)
    await c.start()
    out: list[tuple[str | None, dict]] = []
    try:
        async with asyncio.timeout(timeout_s):
            while len(out) < count:
                batches = await c.getmany(timeout_ms=500)
                for records in batches.values():
                    out += [(r.key.decode() if r.key is not None else None, value) for r in records
                            for value in (orjson.loads(r.value),) if wanted is None or wanted(value)]
    except TimeoutError:
        raise AssertionError(f"{topic}: {len(out)} of {count} messages after {timeout_s}s") from None
    finally:
        await c.stop()
    return out


async def topic_is_empty(bootstrap: str, topic: str, wait_s: float = 2.0) -> bool:
    c = consumer(bootstrap, [topic], group_id=None)
    await c.start()
    try:
        batches = await c.getmany(timeout_ms=int(wait_s * 1000))
        return not any(batches.values())
    finally:
        await c.stop()
