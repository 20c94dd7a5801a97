"""Handing sorted items to the broker: the good messages and the dead letters together,
both acknowledged (acks=all) before an entrance answers its sender.

An entrance with many connections (the gateways) hands over through one `Outlet`: every
connection's fixes and dead letters, handed to the broker together. A connection waits for
the broker's acknowledgement before it answers a report and reads on, so a terminal has at
most one report in flight; thousands of terminals each waiting on a publish call of their
own would cost a record batch and a partition lock each. The outlet gathers what all
connections submitted since the last hand-over into one `publish_sorted` call (at most
`in_flight` at once; what arrives meanwhile waits for the next), and tells each waiter when
its messages are acknowledged. Memory stays bounded by the connections: each holds at most
one frame's messages here, and a slow broker stops them reading, which stops the terminals
sending (TCP's own back-pressure).
"""
from __future__ import annotations

import asyncio

from streams.kafka import BrokerUnavailable, Message, Publisher


async def publish_sorted(publisher, topic: str, deadletter_topic: str, good: list, dead: list) -> None:
    """The good messages and the dead letters, both acknowledged (acks=all) before it
    returns, or BrokerUnavailable."""
    await asyncio.gather(publisher.publish(topic, good), publisher.publish(deadletter_topic, dead))


class Outlet:
    def __init__(self, publisher: Publisher, topic: str, deadletter_topic: str, *, in_flight: int = 4) -> None:
        self._publisher = publisher
        self._topic, self._deadletter = topic, deadletter_topic
        self._slots = asyncio.Semaphore(in_flight)
        self._pending: list[tuple[list[Message], list[Message], asyncio.Future]] = []
        self._scheduled = False
        self._tasks: set[asyncio.Task] = set()

    async def send(self, good: list[Message], dead: list[Message]) -> None:
        """Return once the broker acknowledged every message, or raise BrokerUnavailable."""
        if not good and not dead:
            return
        future = asyncio.get_running_loop().create_future()
        self._pending.append((good, dead, future))
        if not self._scheduled:
            self._scheduled = True
            task = asyncio.create_task(self._hand_over())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        await future

    async def _hand_over(self) -> None:
        async with self._slots:
            # Whatever was submitted while waiting for a slot goes in this hand-over.
            batch, self._pending, self._scheduled = self._pending, [], False
            good = [m for g, _, _ in batch for m in g]
            dead = [m for _, d, _ in batch for m in d]
            try:
                await publish_sorted(self._publisher, self._topic, self._deadletter, good, dead)
            except BrokerUnavailable as exc:
                for _, _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                return
            except BaseException as exc:  # cancelled at shutdown: nobody may wait forever
                for _, _, future in batch:
                    if not future.done():
                        future.set_exception(BrokerUnavailable(f"the hand-over stopped: {exc!r}"))
                raise
            for _, _, future in batch:
                if not future.done():
                    future.set_result(None)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
