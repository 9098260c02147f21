"""When to send `textDocument/publishDiagnostics` for a URI: at once, coalescing only floods.

A change is published on the next turn of the event loop. The URI is then held for twice as long as that publish
took (rendering the list, comparing it with the last one, writing it out), at least `MIN_HOLD` and at most
`MAX_HOLD`; changes during the hold are coalesced into one publish when it ends. So an error appended to a
followed log shows as soon as it is read, even right after another one, while a log or terminal flooding error
lines into a long list takes at most a third of the server's time and is republished at least four times a
second. (A fixed 250 ms window per URI made a user wait up to 250 ms for any error that came soon after another.)
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

COST_FACTOR = 2.0
MIN_HOLD = 0.02  # at most 50 publishes a second per URI, however cheap
MAX_HOLD = 0.25


class Publisher:
    """Schedules `send(uri)`, which publishes the URI's full list (and may skip an unchanged one)."""

    def __init__(self, send: Callable[[str], object]) -> None:
        self._send = send
        self._dirty: set[str] = set()
        self._until: dict[str, float] = {}  # URI → time.monotonic() at which its hold ends
        self._handle: asyncio.TimerHandle | asyncio.Handle | None = None

    def schedule(self, uri: str) -> None:
        self._dirty.add(uri)
        if self._handle is None:
            self._arm()

    def forget(self, uri: str) -> None:
        self._dirty.discard(uri)
        self._until.pop(uri, None)

    def _arm(self) -> None:
        loop = asyncio.get_running_loop()
        due = min(self._until.get(u, 0.0) for u in self._dirty) - time.monotonic()
        self._handle = loop.call_soon(self._flush) if due <= 0 else loop.call_later(due, self._flush)

    def _flush(self) -> None:
        self._handle = None
        now = time.monotonic()
        ready = sorted(u for u in self._dirty if self._until.get(u, 0.0) <= now)
        self._dirty.difference_update(ready)
        for uri in ready:
            started = time.perf_counter()
            self._send(uri)
            hold = min(MAX_HOLD, max(MIN_HOLD, COST_FACTOR * (time.perf_counter() - started)))
            self._until[uri] = time.monotonic() + hold
        if len(self._until) > 1024 + 4 * len(self._dirty):  # forget the holds of quiet URIs
            now = time.monotonic()
            self._until = {u: t for u, t in self._until.items() if t > now or u in self._dirty}
        if self._dirty:
            self._arm()
