"""Pytest fixtures for anything that talks to a status page. Load them in a test module with

    pytest_plugins = ["conftest_status"]

(`tests/` is on sys.path under pytest's default import mode; importing the fixtures by name instead trips
ruff's F811.) Not named conftest.py on purpose: only the tests that need a fake status page load it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from statuspage_server import StatusPageServer


@pytest.fixture
def status_page() -> Iterator[StatusPageServer]:
    """A fresh `StatusPageServer` on 127.0.0.1 per test, stopped (slow behaviours released) afterwards."""
    with StatusPageServer() as server:
        yield server


class FakeClock:
    """Wall and monotonic time that move only when a test says so, or when the code under test sleeps.

    Pass `clock.now` to `StatusClient(now=...)` and `clock.monotonic` / `clock.sleep` to `StatusMonitor`.
    `sleep` returns at once after recording the delay and moving time forward, so a poll loop runs its
    schedule in milliseconds and `clock.sleeps` shows the schedule it chose.
    """

    def __init__(self, start: datetime = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)) -> None:
        self.start = start
        self.offset = 0.0
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.offset)

    def monotonic(self) -> float:
        return self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.advance(seconds)
        await asyncio.sleep(0)


@pytest.fixture
def fake_clock() -> FakeClock:
    """Starts at 2026-11-25T10:00:00Z, the 'now' the recorded payloads in tests/data/status/ are written for."""
    return FakeClock()
