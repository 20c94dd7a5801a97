"""The gateway's outlet: what many connections submit meanwhile goes to the broker in one
hand-over, and each waits for its acknowledgement (or hears it failed)."""
from __future__ import annotations

import asyncio

import pytest

from streams.kafka import BrokerUnavailable
from tracker.intake.publish import Outlet


class FakePublisher:
    def __init__(self, fail: bool = False) -> None:
        self.calls: list[tuple[str, list]] = []
        self.fail = fail

    async def publish(self, topic, messages):
        await asyncio.sleep(0.01)
        if self.fail:
            raise BrokerUnavailable("down")
        if messages:
            self.calls.append((topic, list(messages)))


async def test_submissions_made_meanwhile_share_one_hand_over_and_each_waits_for_it():
    publisher = FakePublisher()
    outlet = Outlet(publisher, "fixes", "dead", in_flight=1)
    await asyncio.gather(*(outlet.send([(b"P", b"%d" % n)], [(None, b"d%d" % n)] if n % 2 else [])
                           for n in range(50)))
    fixes = [m for topic, ms in publisher.calls if topic == "fixes" for m in ms]
    assert sorted(v for _, v in fixes) == sorted(b"%d" % n for n in range(50))
    assert len([c for c in publisher.calls if c[0] == "fixes"]) <= 2  # not one call per connection
    assert len([m for topic, ms in publisher.calls if topic == "dead" for m in ms]) == 25
    await outlet.close()


async def test_a_failed_hand_over_is_told_to_every_waiter():
    outlet = Outlet(FakePublisher(fail=True), "fixes", "dead")
    results = await asyncio.gather(*(outlet.send([(b"P", b"x")], []) for _ in range(5)), return_exceptions=True)
    assert all(isinstance(r, BrokerUnavailable) for r in results)
    await outlet.send([], [])  # nothing to send: returns at once
    await outlet.close()


async def test_nothing_waits_forever_when_the_outlet_closes():
    publisher = FakePublisher()
    publisher.publish = lambda topic, messages: asyncio.sleep(3600)
    outlet = Outlet(publisher, "fixes", "dead")
    waiter = asyncio.create_task(outlet.send([(b"P", b"x")], []))
    await asyncio.sleep(0.01)
    await outlet.close()
    with pytest.raises(BrokerUnavailable):
        await asyncio.wait_for(waiter, 1)
