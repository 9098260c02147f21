"""When to send `textDocument/publishDiagnostics` for a URI: at once, then no more than four times a second.

A change to a quiet URI is published on the next turn of the event loop, so an error appended to a followed log
shows as soon as it is read. The URI is then held for `MIN_HOLD`, or twice as long as that publish took
(rendering the list, comparing it with the last one, writing it out) when that is longer, up to `MAX_HOLD`;
changes during the hold are coalesced into one publish when it ends. A log or terminal flooding error lines thus
costs the editor at most four redraws a second and the server at most a third of its time, while an error that
comes within 250 ms of another waits for the rest of the hold.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

COST_FACTOR = 2.0
MIN_HOLD = 0.25  # at most four publishes a second per URI, however cheap: editors redraw on each one
MAX_HOLD = 1.0


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
        # One URI per turn of the event loop: a request that arrives meanwhile waits for one publish, not for all
        # the lists that happened to be due at once (a log, a 50 MB document and a few transcripts).
        ready = min((u for u in self._dirty if self._until.get(u, 0.0) <= now), default=None)
        if ready is not None:
            self._dirty.discard(ready)
            started = time.perf_counter()
            self._send(ready)
            hold = min(MAX_HOLD, max(MIN_HOLD, COST_FACTOR * (time.perf_counter() - started)))
            self._until[ready] = time.monotonic() + hold
        if len(self._until) > 1024 + 4 * len(self._dirty):  # forget the holds of quiet URIs
            now = time.monotonic()
            self._until = {u: t for u, t in self._until.items() if t > now or u in self._dirty}
        if self._dirty:
            self._arm()
