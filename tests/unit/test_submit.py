"""The worker's transactions in flight: one at a time, in order, none after a failure."""
from __future__ import annotations

import asyncio

import asyncpg
import pytest

from tracker.workers.loop import Partitions


def member() -> Partitions:
    return Partitions("fixes", 1)


async def test_a_transaction_starts_only_once_the_one_before_has_committed():
    loop, started = member(), []
    first = asyncio.get_running_loop().create_future()

    def start(n, future):
        started.append(n)
        return future

    await loop.submit(lambda: start(1, first))
    second = asyncio.create_task(loop.submit(lambda: start(2, asyncio.get_running_loop().create_future())))
    await asyncio.sleep(0.05)
    assert started == [1]  # still committing the first
    first.set_result(None)
    await second
    assert started == [1, 2]


async def test_after_a_failed_transaction_the_next_is_never_started():
    loop, started = member(), []
    first = asyncio.get_running_loop().create_future()
    await loop.submit(lambda: first)
    first.set_exception(asyncpg.ConnectionDoesNotExistError("gone"))
    with pytest.raises(asyncpg.ConnectionDoesNotExistError):
        await loop.submit(lambda: started.append(2))
    assert started == []
    await loop.settle()  # the failure was reported once; nothing is in flight now
