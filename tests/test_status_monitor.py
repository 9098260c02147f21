"""The status monitor's manners: when it asks, how often, how it backs off, and when it keeps quiet.

Time is a `FakeClock`: the monitor's sleeps return at once and move the clock, so `fake_clock.sleeps` is the
schedule the monitor chose, while the requests go to a real server that counts them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from hiccup.status import StatusClient, StatusMonitor, StatusSummary, status_notification_payload
from statuspage_server import StatusPageServer, delay, json_body, load_payload, respond, sequence

if TYPE_CHECKING:
    from conftest_status import FakeClock
    from statuspage_server import Behaviour

pytest_plugins = ["conftest_status"]
pytestmark = pytest.mark.timeout(20)

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
OPERATIONAL = load_payload("operational.json")
MINOR = load_payload("minor_incident.json")

MonitorFactory = Callable[..., StatusMonitor]


@pytest.fixture
async def make_monitor(status_page: StatusPageServer, fake_clock: FakeClock) -> AsyncIterator[MonitorFactory]:
    """Build monitors on the fake clock against `/p` of the test server (no jitter unless asked); all closed
    at the end of the test."""
    made: list[StatusMonitor] = []

    def factory(behaviour: Behaviour, **kwargs: Any) -> StatusMonitor:
        url = status_page.serve("/p", behaviour)
        client = StatusClient(url, now=fake_clock.now, total_timeout=kwargs.pop("total_timeout", 5.0))
        kwargs.setdefault("rng", lambda: 0.0)
        monitor = StatusMonitor(client, monotonic=fake_clock.monotonic, sleep=fake_clock.sleep, **kwargs)
        made.append(monitor)
        return monitor

    yield factory
    for monitor in made:
        await monitor.aclose()


async def assert_polling_stopped(status_page: StatusPageServer) -> None:
    """A request already on its way finishes; nothing new starts. With instant fake sleeps a live poller would
    make dozens of requests in these 0.4 s."""
    seen = status_page.count("/p")
    await asyncio.sleep(0.2)
    settled = status_page.count("/p")
    await asyncio.sleep(0.2)
    assert seen <= settled <= seen + 1
    assert status_page.count("/p") == settled


async def test_check_now_serves_the_cache_within_the_ttl(
    make_monitor: MonitorFactory, status_page: StatusPageServer, fake_clock: FakeClock
) -> None:
    monitor = make_monitor(json_body(OPERATIONAL), ttl=30)

    first = await monitor.check_now()
    fake_clock.advance(10)
    cached = await monitor.check_now()
    fake_clock.advance(21)
    refreshed = await monitor.check_now()
    forced = await monitor.check_now(force=True)

    assert cached is first
    assert refreshed.fetched_at == T0 + timedelta(seconds=31)
    assert forced is not refreshed and forced.ok
    assert status_page.count("/p") == 3
    assert monitor.summary is forced


async def test_concurrent_callers_share_one_request(
    make_monitor: MonitorFactory, status_page: StatusPageServer
) -> None:
    monitor = make_monitor(delay(0.3, json_body(OPERATIONAL)))

    results = await asyncio.gather(*(monitor.check_now(force=True) for _ in range(5)))

    assert status_page.count("/p") == 1
    assert all(r is results[0] for r in results) and results[0].ok


async def test_a_caller_giving_up_does_not_cancel_the_shared_request(
    make_monitor: MonitorFactory, status_page: StatusPageServer
) -> None:
    monitor = make_monitor(delay(0.3, json_body(OPERATIONAL)))
    impatient = asyncio.create_task(monitor.check_now())
    patient = asyncio.create_task(monitor.check_now())
    await status_page.wait_for(1, "/p")

    impatient.cancel()
    summary = await patient

    assert summary.ok and impatient.cancelled()
    assert status_page.count("/p") == 1


async def test_no_requests_until_active_and_none_after(
    make_monitor: MonitorFactory, status_page: StatusPageServer, fake_clock: FakeClock
) -> None:
    monitor = make_monitor(json_body(OPERATIONAL), poll_interval=60, ttl=30)
    await asyncio.sleep(0.1)
    assert status_page.count("/p") == 0 and not monitor.active

    monitor.set_active(True)
    await status_page.wait_for(4, "/p")
    monitor.set_active(False)
    await assert_polling_stopped(status_page)
    assert not monitor.active
    assert fake_clock.sleeps[:3] == [60, 60, 60]


async def test_failures_back_off_exponentially(
    make_monitor: MonitorFactory, status_page: StatusPageServer, fake_clock: FakeClock
) -> None:
    monitor = make_monitor(respond(500), poll_interval=60, backoff_max=900)

    monitor.set_active(True)
    await status_page.wait_for(7, "/p")
    monitor.set_active(False)

    assert fake_clock.sleeps[:6] == [60, 120, 240, 480, 900, 900]
    assert monitor.consecutive_failures >= 6
    assert monitor.summary is not None and monitor.summary.unknown_reason == "HTTP 500"


async def test_backoff_jitter_only_lengthens_the_delay(make_monitor: MonitorFactory) -> None:
    draws = iter([0.0, 1.0, 0.5])
    monitor = make_monitor(respond(500), poll_interval=60, backoff_max=900, jitter=0.2, rng=lambda: next(draws))

    assert [monitor.backoff_delay(1), monitor.backoff_delay(1), monitor.backoff_delay(2)] == [60, 72, 132]


async def test_recovery_returns_to_the_regular_interval(
    make_monitor: MonitorFactory, status_page: StatusPageServer, fake_clock: FakeClock
) -> None:
    monitor = make_monitor(sequence(respond(500), respond(502), json_body(OPERATIONAL)), poll_interval=60)

    monitor.set_active(True)
    await status_page.wait_for(5, "/p")
    monitor.set_active(False)

    assert fake_clock.sleeps[:4] == [60, 120, 60, 60]
    assert monitor.consecutive_failures == 0


async def test_check_now_respects_the_backoff_unless_forced(
    make_monitor: MonitorFactory, status_page: StatusPageServer, fake_clock: FakeClock
) -> None:
    monitor = make_monitor(respond(500), poll_interval=60)

    failed = await monitor.check_now()
    fake_clock.advance(30)
    again = await monitor.check_now()
    assert again is failed and status_page.count("/p") == 1

    await monitor.check_now(force=True)
    assert status_page.count("/p") == 2


async def test_disabled_monitor_never_asks(
    make_monitor: MonitorFactory, status_page: StatusPageServer, fake_clock: FakeClock
) -> None:
    monitor = make_monitor(json_body(OPERATIONAL), enabled=False)

    monitor.set_active(True)
    summary = await monitor.check_now(force=True)
    await asyncio.sleep(0.1)

    assert not monitor.active
    assert summary.state == "unknown" and summary.unknown_reason == "status checks are turned off"
    assert status_page.count() == 0 and fake_clock.sleeps == []


async def test_disabling_stops_polling(make_monitor: MonitorFactory, status_page: StatusPageServer) -> None:
    monitor = make_monitor(json_body(OPERATIONAL))
    monitor.set_active(True)
    await status_page.wait_for(2, "/p")

    monitor.set_enabled(False)
    await assert_polling_stopped(status_page)
    assert not monitor.active
    monitor.set_active(True)
    assert not monitor.active


async def test_on_change_fires_only_when_the_answer_changes(
    make_monitor: MonitorFactory, status_page: StatusPageServer, fake_clock: FakeClock
) -> None:
    seen: list[str] = []

    async def on_change(summary: StatusSummary) -> None:
        seen.append(summary.short_text())

    monitor = make_monitor(
        sequence(json_body(OPERATIONAL), json_body(OPERATIONAL), json_body(MINOR), json_body(MINOR), respond(500)),
        on_change=on_change,
    )
    for _ in range(5):
        fake_clock.advance(60)
        await monitor.check_now(force=True)

    assert seen == [
        "Claude status: all operational",
        "Claude status: minor — Elevated errors on Claude Opus 4 (investigating)",
        "Claude status unknown (HTTP 500); last good answer 1 min ago: minor — Elevated errors on Claude Opus 4 "
        "(investigating)",
    ]


async def test_a_304_is_not_a_change(make_monitor: MonitorFactory, status_page: StatusPageServer) -> None:
    calls: list[StatusSummary] = []
    monitor = make_monitor(json_body(MINOR, etag='"e1"'), on_change=calls.append)

    await monitor.check_now(force=True)
    fresh = await monitor.check_now(force=True)

    assert status_page.requests("/p")[1].headers["if-none-match"] == '"e1"'
    assert len(calls) == 1 and fresh.ok


async def test_a_failing_listener_does_not_break_checks(make_monitor: MonitorFactory) -> None:
    def on_change(summary: StatusSummary) -> None:
        raise RuntimeError("listener bug")

    monitor = make_monitor(json_body(OPERATIONAL), on_change=on_change)

    summary = await monitor.check_now()

    assert summary.ok and monitor.summary is summary


async def test_aclose_stops_polling(make_monitor: MonitorFactory, status_page: StatusPageServer) -> None:
    monitor = make_monitor(json_body(OPERATIONAL))
    monitor.set_active(True)
    await status_page.wait_for(1, "/p")

    await monitor.aclose()
    seen = status_page.count("/p")
    await asyncio.sleep(0.2)
    settled = status_page.count("/p")
    await asyncio.sleep(0.2)

    assert not monitor.active
    assert seen <= settled <= seen + 1 and status_page.count("/p") == settled


async def test_a_hanging_page_cannot_hang_check_now(make_monitor: MonitorFactory) -> None:
    monitor = make_monitor(delay(10, json_body(OPERATIONAL)), total_timeout=0.3)

    summary = await asyncio.wait_for(monitor.check_now(), 2)

    assert summary.unknown_reason == "timed out after 0.3 s"


def test_notification_before_the_first_check_and_when_disabled() -> None:
    url = "https://status.claude.com"
    assert status_notification_payload(None, True, url) == {
        "enabled": True,
        "indicator": "unknown",
        "text": "Claude: status not checked yet",
        "tooltip": "The status page is checked while a server-side error is active",
        "url": url,
        "incidentUrl": None,
        "checkedAt": None,
        "ageSeconds": None,
    }
    off = status_notification_payload(None, False, url)
    assert (off["enabled"], off["indicator"], off["text"]) == (False, "unknown", "Claude: status checks off")


@pytest.mark.parametrize("kwargs", [{"poll_interval": 0}, {"ttl": -1}, {"backoff_max": 0}, {"jitter": -0.1}])
def test_refused_monitor_settings(kwargs: dict[str, float]) -> None:
    from hiccup.status import StatusConfigError

    with pytest.raises(StatusConfigError):
        StatusMonitor(StatusClient(), **kwargs)
