"""The one source of "now" for everything time-aware (incident states, reminders, stale errors).

Incident states change with the passage of time alone ("still failing after 5 min"), so the server must be
testable without waiting: every component asks an injected `Clock`, and tests swap in a `ManualClock` that only
moves when told to. Rate limiting of I/O (publish coalescing) deliberately does not use this clock: it is about
the wire, not about the domain.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Protocol

TEST_CLOCK_ENV = "HICCUP_TEST_CLOCK"
TEST_CLOCK_START_ENV = "HICCUP_TEST_CLOCK_START"


class Clock(Protocol):
    """Anything that can say what time it is (tz-aware UTC)."""

    def now(self) -> datetime: ...


class SystemClock:
    """Wall-clock time, the production clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that stands still until `advance` is called, so tests decide when minutes pass."""

    def __init__(self, start: datetime | None = None) -> None:
        start = start or datetime.now(UTC)
        if start.tzinfo is None:
            raise ValueError("ManualClock needs a tz-aware start time")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> datetime:
        """Move time forward (never backward: incident timing assumes time is monotonic)."""
        if seconds < 0:
            raise ValueError("time only moves forward")
        self._now += timedelta(seconds=seconds)
        return self._now


def parse_utc(text: str) -> datetime:
    """Parse an ISO-8601 timestamp ("2026-11-25T10:00:00Z"); naive values are taken as UTC."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def clock_from_env(environ: Mapping[str, str] | None = None) -> Clock:
    """`HICCUP_TEST_CLOCK=1` selects a manual clock (starting at `HICCUP_TEST_CLOCK_START` if given)."""
    env = os.environ if environ is None else environ
    if env.get(TEST_CLOCK_ENV) != "1":
        return SystemClock()
    start = env.get(TEST_CLOCK_START_ENV)
    return ManualClock(parse_utc(start) if start else None)
