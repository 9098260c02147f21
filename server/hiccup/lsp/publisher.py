"""When to send `textDocument/publishDiagnostics` for a URI: at once, unless it floods.

Each URI has a small bucket of publishes (`BURST`) that refills at `RATE` a second. A change is published on the
next turn of the event loop while the bucket holds one, so errors that come alone or a few at a time show as
soon as they are read. A URI whose bucket is empty (a log or terminal flooding error lines) is held until it
refills, and changes during the hold are coalesced into one publish: at most `RATE` redraws a second, `BURST`
more in the first second. A publish that costs much (rendering, comparing and writing a long list) also holds
its URI for `COST_FACTOR` times that cost, up to `MAX_HOLD`, so one list never takes more than a third of the
server's time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

RATE = 4.0  # publishes a second per URI, sustained
BURST = 3  # publishes a quiet URI may send at once before the rate applies
COST_FACTOR = 2.0
MAX_HOLD = 1.0


class Publisher:
    """Schedules `send(uri)`, which publishes the URI's full list (and may skip an unchanged one)."""

    def __init__(self, send: Callable[[str], object]) -> None:
        self._send = send
        self._dirty: set[str] = set()
        self._until: dict[str, float] = {}  # URI → time.monotonic() at which its hold ends
        self._bucket: dict[str, tuple[float, float]] = {}  # URI → (publishes left, when counted); absent: full
        self._handle: asyncio.TimerHandle | asyncio.Handle | None = None

    def schedule(self, uri: str) -> None:
        self._dirty.add(uri)
        if self._handle is None:
            self._arm()

    def forget(self, uri: str) -> None:
        self._dirty.discard(uri)
        self._until.pop(uri, None)
        self._bucket.pop(uri, None)

    def _arm(self) -> None:
        loop = asyncio.get_running_loop()
        due = min(self._until.get(u, 0.0) for u in self._dirty) - time.monotonic()
        self._handle = loop.call_soon(self._flush) if due <= 0 else loop.call_later(due, self._flush)

    def _flush(self) -> None:
        self._handle = None
        now = time.monotonic()
        # One URI per turn of the event loop: a request that arrives meanwhile waits for one publish, not for all
        # the lists that happened to be due at once (a log, a 50 MB document and a few transcripts).
        ready = min((u for u in self._dirty if self._until.get(u, 0.0) <= now), default=None)
        if ready is not None:
            self._dirty.discard(ready)
            started = time.perf_counter()
            self._send(ready)
            cost = time.perf_counter() - started
            now = time.monotonic()
            left, counted = self._bucket.get(ready, (float(BURST), now))
            left = min(float(BURST), left + (now - counted) * RATE) - 1
            self._bucket[ready] = (left, now)
            refill = (1 - left) / RATE if left < 1 else 0.0
            self._until[ready] = now + max(refill, min(MAX_HOLD, COST_FACTOR * cost))
        if len(self._until) > 1024 + 4 * len(self._dirty):  # forget quiet URIs: their buckets are full again
            now = time.monotonic()
            quiet = [u for u, t in self._until.items()
                     if u not in self._dirty and t <= now and now - self._bucket.get(u, (0.0, 0.0))[1] > BURST / RATE]
            for uri in quiet:
                self._until.pop(uri, None)
                self._bucket.pop(uri, None)
        if self._dirty:
            self._arm()
