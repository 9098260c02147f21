"""The publisher: a change goes out at once, a few in a row too; only a flood is paced and coalesced."""

from __future__ import annotations

import asyncio
import time

from hiccup.lsp.publisher import BURST, COST_FACTOR, MAX_HOLD, RATE, Publisher

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


async def test_a_few_changes_go_out_at_once_and_a_flood_is_paced() -> None:
    rec = Recorder()
    publisher = Publisher(rec.send)
    times = []
    for _ in range(BURST):  # errors that come a few at a time: each one published on the next loop turn
        asked = time.monotonic()
        publisher.schedule("file:///a.log")
        _, sent = await rec.next()
        assert sent - asked < 0.1
        times.append(sent)

    for _ in range(5):  # the bucket is empty: five changes wait for it to refill, and go out as one
        publisher.schedule("file:///a.log")
    _, paced = await rec.next()
    assert paced - times[-1] >= 1 / RATE * 0.8
    await asyncio.sleep(2 / RATE)
    assert len(rec.sent) == BURST + 1

    publisher.schedule("file:///b.log")  # another URI is not held by the first
    assert (await rec.next())[0] == "file:///b.log"


async def test_a_sustained_flood_gets_the_rate_and_no_more() -> None:
    rec = Recorder()
    publisher = Publisher(rec.send)
    start = time.monotonic()
    while time.monotonic() - start < 1.5:
        publisher.schedule("file:///flood.log")
        await asyncio.sleep(0.005)
    await asyncio.sleep(2 / RATE)
    sent = [t for _, t in rec.sent]
    assert BURST + RATE * 1.0 <= len(sent) <= BURST + RATE * 1.5 + 2
    assert max(sum(1 for t in sent if s <= t < s + 1) for s in sent) <= BURST + RATE + 1


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
    await asyncio.sleep(2 / RATE)
    assert [u for u, _ in rec.sent] == ["file:///a.log", "file:///b.log"]
