"""The publisher: a change goes out at once; only changes during a URI's short hold are coalesced."""

from __future__ import annotations

import asyncio
import time

from hiccup.lsp.publisher import COST_FACTOR, MAX_HOLD, MIN_HOLD, Publisher

TIMEOUT = 5.0


class Recorder:
    def __init__(self, cost: float = 0.0) -> None:
        self.cost = cost
        self.sent: list[tuple[str, float]] = []
        self.event = asyncio.Event()

    def send(self, uri: str) -> None:
        self.sent.append((uri, time.monotonic()))
        if self.cost:
            time.sleep(self.cost)  # what rendering and writing a long list costs
        self.event.set()

    async def next(self) -> tuple[str, float]:
        self.event.clear()
        await asyncio.wait_for(self.event.wait(), TIMEOUT)
        return self.sent[-1]


async def test_a_change_is_published_at_once_and_a_burst_once_after_the_hold() -> None:
    rec = Recorder()
    publisher = Publisher(rec.send)
    asked = time.monotonic()
    publisher.schedule("file:///a.log")
    _, first = await rec.next()
    assert first - asked < 0.2  # the next turn of the event loop, not a fixed window

    for _ in range(5):
        publisher.schedule("file:///a.log")
    _, second = await rec.next()
    assert second - first >= MIN_HOLD * 0.9
    await asyncio.sleep(MIN_HOLD * 2)
    assert len(rec.sent) == 2  # five changes during the hold: one publish

    publisher.schedule("file:///b.log")  # another URI is not held by the first
    assert (await rec.next())[0] == "file:///b.log"


async def test_the_hold_grows_with_what_a_publish_costs() -> None:
    rec = Recorder(cost=0.04)
    publisher = Publisher(rec.send)
    publisher.schedule("file:///big.log")
    _, first = await rec.next()
    publisher.schedule("file:///big.log")
    _, second = await rec.next()
    assert second - first >= min(MAX_HOLD, COST_FACTOR * 0.04) * 0.9
    assert second - first < MAX_HOLD + 0.2


async def test_forget_drops_pending_work() -> None:
    rec = Recorder()
    publisher = Publisher(rec.send)
    publisher.schedule("file:///a.log")
    await rec.next()
    publisher.schedule("file:///a.log")
    publisher.forget("file:///a.log")
    publisher.schedule("file:///b.log")
    assert (await rec.next())[0] == "file:///b.log"
    await asyncio.sleep(MIN_HOLD * 2)
    assert [u for u, _ in rec.sent] == ["file:///a.log", "file:///b.log"]
