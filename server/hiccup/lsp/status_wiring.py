"""The status page in the server: a `StatusMonitor` built from `hiccup.statusPage.*`, polling only while a
server-side incident is open, feeding `StatusFacts` to the incidents and `hiccup/status` to the client.

`hiccup.status` imports httpx (~100 ms), so it is imported when the first monitor is built on `initialized`,
after the `initialize` answer: start-up stays fast.

Time: on the production clock the monitor sleeps and measures with asyncio and `time.monotonic`. On the manual
clock of a server under test (`HICCUP_TEST_CLOCK=1`) it sleeps and measures on that clock instead, and every
server tick (`hiccup/_test/advanceClock` ticks) wakes it to look at the clock again: "advance 60 s" makes a
60 s poll happen, without waiting and without any test-only interval. A server under test also talks only to a
loopback status page, so a test that forgets to configure one can never reach the internet.

`HICCUP_STATUS_TIMEOUT` (seconds) shortens the total timeout of one check (default 15 s), for slow networks and
for tests of a page that never answers.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import attrs
from lsprotocol import types

from hiccup.clock import ManualClock
from hiccup.incidents import UNKNOWN_STATUS
from hiccup.settings import SECTION, SettingsProblem, StatusPageSettings
from hiccup.status_facts import needs_status, status_facts

if TYPE_CHECKING:
    from hiccup.lsp.server import HiccupServer
    from hiccup.status import StatusClient, StatusMonitor, StatusSummary

TIMEOUT_ENV = "HICCUP_STATUS_TIMEOUT"
URL_SETTING = f"{SECTION}.statusPage.url"
_LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


class ManualSleep:
    """`sleep` on a manual clock: returns once the clock has moved `seconds` on, re-checking at each `wake()`."""

    def __init__(self, clock: ManualClock) -> None:
        self._clock = clock
        self._moved = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        due = self._clock.now() + timedelta(seconds=seconds)
        while self._clock.now() < due:
            await self._moved.wait()

    def monotonic(self) -> float:
        return self._clock.now().timestamp()

    def wake(self) -> None:
        moved, self._moved = self._moved, asyncio.Event()
        moved.set()


def _timeouts(environ: Mapping[str, str] | None = None) -> dict[str, float]:
    raw = (os.environ if environ is None else environ).get(TIMEOUT_ENV)
    if not raw:
        return {}
    try:
        total = float(raw)
    except ValueError:
        total = 0.0
    if not 0 < total <= 300:
        raise ValueError(f"{TIMEOUT_ENV} must be a number of seconds between 0 and 300, got {raw!r}")
    from hiccup.status import DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT

    return {"total_timeout": total, "connect_timeout": min(total, DEFAULT_CONNECT_TIMEOUT),
            "read_timeout": min(total, DEFAULT_READ_TIMEOUT)}


class StatusWiring:
    """Owns the server's `StatusMonitor` (`server.status_monitor`); the server calls `configure` after a settings
    change and `tick` after each re-evaluation of the incidents, `hiccup.checkStatusNow` calls `check_now`."""

    def __init__(self, server: HiccupServer) -> None:
        self._server = server
        self._monitor: StatusMonitor | None = None
        self._config: tuple[str, tuple[str, ...], float] | None = None
        self._good_url = StatusPageSettings().url  # the last URL the monitor accepted
        clock = server.clock
        self._under_test = isinstance(clock, ManualClock)
        self._sleep = ManualSleep(clock) if isinstance(clock, ManualClock) else None

    @property
    def enabled(self) -> bool:
        return self._monitor is not None and self._monitor.enabled

    @property
    def page_url(self) -> str:
        return self._monitor.client.page_url if self._monitor is not None else self._good_url

    def configure(self) -> None:
        """Bring the monitor in line with `hiccup.statusPage`: a new URL, components or interval build a new
        monitor (the old one's answers are about another page); `enabled` only switches requests on or off."""
        from hiccup.status import StatusConfigError, validate_status_page_url

        ls = self._server
        page = ls.settings.status_page
        try:
            validate_status_page_url(page.url)
        except StatusConfigError as exc:
            problem = SettingsProblem(URL_SETTING, str(exc))
            ls.log("warning", problem.message())
            ls.notify_user(problem.message(), types.MessageType.Warning)
            page = attrs.evolve(page, url=self._good_url)
            ls.settings = attrs.evolve(ls.settings, status_page=page)
        changed = False
        config = (page.url, tuple(page.components), float(page.poll_seconds))
        if config != self._config:
            self._replace(page, config)
            changed = True
        enabled = page.enabled and self._may_contact(self.page_url)
        if changed or enabled != self.enabled:
            assert self._monitor is not None
            self._monitor.set_enabled(enabled)
            if page.enabled and not enabled:
                ls.log("info", f"status checks off: a server under test contacts only loopback pages, not "
                               f"{self.page_url}")
            if not enabled or changed:
                ls.set_status(UNKNOWN_STATUS)
            self._send()
            self.tick()

    def tick(self) -> None:
        """Poll while a server-side incident is open and not at all otherwise; refresh the facts, whose advice
        depends on the incidents too ("resolved, but errors continue")."""
        monitor = self._monitor
        if monitor is None:
            return
        if monitor.enabled:
            ls = self._server
            monitor.set_active(needs_status(ls.incidents, ls.ignored))
            if monitor.summary is not None:
                self._refresh_facts()
        if self._sleep is not None:
            self._sleep.wake()

    async def check_now(self) -> dict[str, Any]:
        """`hiccup.checkStatusNow`: a forced check, reported in a message; returns the summary as JSON."""
        ls = self._server
        if self._monitor is None or not self.enabled:
            why = ("setting hiccup.statusPage.enabled" if not ls.settings.status_page.enabled
                   else "a server under test contacts only loopback status pages")
            ls.notify_user(f"Hiccup: Claude status checks are turned off ({why}).")
            return {"enabled": False}
        summary = await self._monitor.check_now(force=True)
        now = ls.clock.now()
        ls.notify_user(summary.short_text(now),
                       types.MessageType.Info if summary.ok else types.MessageType.Warning)
        return {"enabled": True, **summary.to_json(now)}

    async def aclose(self) -> None:
        if self._monitor is not None:
            await self._monitor.aclose()

    def _may_contact(self, url: str) -> bool:
        return not self._under_test or urlsplit(url).hostname in _LOOPBACK

    def _replace(self, page: StatusPageSettings, config: tuple[str, tuple[str, ...], float]) -> None:
        from hiccup.status import StatusClient, StatusMonitor

        ls = self._server
        try:
            timeouts = _timeouts()
        except ValueError as exc:
            ls.log("warning", f"{exc}; using the default timeouts")
            timeouts = {}
        client = StatusClient(page.url, components=page.components, now=ls.clock.now, **timeouts)
        clock: dict[str, Any] = {}
        if self._sleep is not None:
            clock = {"monotonic": self._sleep.monotonic, "sleep": self._sleep}

        def on_change(summary: StatusSummary) -> None:
            self._changed(client, summary)

        monitor = StatusMonitor(client, enabled=False, poll_interval=config[2], on_change=on_change, **clock)
        old, self._monitor, self._config, self._good_url = self._monitor, monitor, config, page.url
        if old is not None:
            old.set_enabled(False)
            ls.spawn(old.aclose())

    def _changed(self, client: StatusClient, summary: StatusSummary) -> None:
        if self._monitor is None or self._monitor.client is not client:
            return  # an answer of a monitor replaced while its request was in flight: about another page
        ls = self._server
        ls.log("info", summary.short_text(ls.clock.now()))
        self._refresh_facts()
        self._send()

    def _refresh_facts(self) -> None:
        ls = self._server
        assert self._monitor is not None
        facts = status_facts(self._monitor.summary, ls.incidents, ls.clock.now(), ls.ignored)
        if dataclasses.replace(facts, markdown=None) == dataclasses.replace(ls.status, markdown=None):
            # Only the hover's "checked 2 min ago" aged: nothing to re-evaluate or republish.
            ls.status = facts
        else:
            ls.set_status(facts)

    def _send(self) -> None:
        ls = self._server
        if not ls.client_features.status_bar:
            return
        from hiccup.status import status_notification_payload

        summary = self._monitor.summary if self._monitor is not None and self.enabled else None
        ls.send_status(status_notification_payload(summary, self.enabled, self.page_url, ls.clock.now()))


def start(server: HiccupServer) -> StatusWiring:
    """On `initialized`: build the monitor from the current settings and tell the client its state."""
    wiring = StatusWiring(server)
    server.status_monitor = wiring
    wiring.configure()
    return wiring
