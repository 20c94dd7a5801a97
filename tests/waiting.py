"""Polling for something the system does asynchronously, with a deadline."""
from __future__ import annotations

import asyncio
import time


async def until(predicate, timeout_s: float = 40.0, what: str = "condition"):
    """The first truthy value of `predicate()`, or AssertionError after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = await predicate()
        if value:
            return value
        await asyncio.sleep(0.5)
    raise AssertionError(f"{what}: not within {timeout_s}s")
