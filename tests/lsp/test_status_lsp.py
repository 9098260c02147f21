"""The status page in the running server: the real `hiccup serve` pointed (through `hiccup.statusPage.url`) at a
real HTTP status page on 127.0.0.1, with the manual clock driving both the incidents and the polling.

What the user sees: the hover on an open 500 says what the page reports (or why it could not be read), the
`hiccup/status` notification drives the VS Code status item, a failure with no incident escalates after 10 min
while a known incident means "keep waiting". What the page sees: no request while nothing server-side is wrong,
one per poll interval while something is, conditional requests, and none at all when checks are off.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsp_support import (
    AUTH,
    ERR_500,
    SERVER_COMMAND,
    SERVER_ENV,
    TIMEOUT,
    VSCODE_OPTIONS,
    advance,
    append,
    execute,
    hover_text,
    initialize,
    open_doc,
    wait_diagnostics,
    wait_message,
)
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, make_test_lsp_client

from statuspage_server import (
    MB,
    Behaviour,
    StatusPageServer,
    delay,
    huge,
    json_body,
    load_payload,
    redirect,
    respond,
)

STATUS = "hiccup/status"
CHECK = "hiccup.checkStatusNow"
WARNING, ERROR = types.DiagnosticSeverity.Warning, types.DiagnosticSeverity.Error
OPERATIONAL = load_payload("operational.json")
MINOR = load_payload("minor_incident.json")
MINOR_NAME, MINOR_LINK = "Elevated errors on Claude Opus 4", "https://stspg.io/q4xy0v2kd1hw"
CHECK_TIMEOUT = 2  # seconds: HICCUP_STATUS_TIMEOUT, so a page that never answers costs 2 s, not 15


def status_client() -> LanguageClient:
    """The stock test client, recording `hiccup/status` notifications as plain dicts."""
    client = make_test_lsp_client()
    client.statuses: list[dict[str, Any]] = []  # type: ignore[misc]

    @client.feature(STATUS)
    def on_status(client: LanguageClient, params: Any) -> None:
        client.statuses.append(params if isinstance(params, dict) else params._asdict())  # type: ignore[attr-defined]

    return client


CONFIG = ClientServerConfig(server_command=SERVER_COMMAND, client_factory=status_client,
                            server_env={**SERVER_ENV, "HICCUP_STATUS_TIMEOUT": str(CHECK_TIMEOUT)})


@pytest.fixture(scope="module")
def page() -> Iterator[StatusPageServer]:
    """One status page server for the module; each test serves its own prefixes."""
    with StatusPageServer() as server:
        yield server


@pytest_lsp.fixture(config=CONFIG, scope="module")
async def editor(lsp_client: LanguageClient):  # type: ignore[no-untyped-def]
    """One VS Code-like server whose status page URL each case sets (the clock never moves)."""
    await initialize(lsp_client)
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=CONFIG)
async def fresh(lsp_client: LanguageClient):  # type: ignore[no-untyped-def]
    """A new server (and clock) per test; the test initializes it with its settings."""
    yield
    await lsp_client.shutdown_session()


async def start(client: LanguageClient, **status_page: Any) -> dict[str, Any]:
    """Initialize as VS Code with `hiccup.statusPage` settings; returns the first `hiccup/status`."""
    await initialize(client, options={**VSCODE_OPTIONS, "settings": {"statusPage": status_page}})
    return await wait_status(client, lambda s: True)


def configure(client: LanguageClient, **status_page: Any) -> int:
    """Push new `hiccup.statusPage` settings; returns how many statuses had arrived (for `wait_status`)."""
    seen = len(client.statuses)  # type: ignore[attr-defined]
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"hiccup": {"statusPage": status_page}}))
    return seen


async def wait_status(client: LanguageClient, predicate: Callable[[dict[str, Any]], bool], after: int = 0,
                      timeout: float = TIMEOUT) -> dict[str, Any]:
    """The first `hiccup/status` (from the `after`-th on) that satisfies `predicate`."""
    async def loop() -> dict[str, Any]:
        while True:
            next_status = client.protocol.wait_for_notification_async(STATUS)
            for status in client.statuses[after:]:  # type: ignore[attr-defined]
                if predicate(status):
                    return status
            await next_status
    return await asyncio.wait_for(loop(), timeout)


async def no_more_requests(page: StatusPageServer, prefix: str, count: int) -> None:
    """Proving a negative: give a stray poll a moment to arrive, then check it did not."""
    with pytest.raises(TimeoutError):
        await page.wait_for(count + 1, prefix, timeout=0.3)
    assert page.count(prefix) == count


_docs = itertools.count(1)


# --- every answer a page can give, as the hover and the status item show it ------------------------------------

CASES: list[tuple[str, Callable[[StatusPageServer], Behaviour | None], str, str, list[str]]] = [
    # (id, behaviour, notification indicator, notification text, in the hover)
    ("operational", lambda p: json_body(OPERATIONAL), "none", "Claude: operational",
     ["status page: none (no incident)", "**Claude status: operational** — All Systems Operational"]),
    ("minor", lambda p: json_body(MINOR), "minor", "Claude: minor incident",
     [f"status page: **minor** — {MINOR_NAME} ([incident]({MINOR_LINK}))",
      "Claude API (api.anthropic.com): degraded performance",
      f"**Incident:** [{MINOR_NAME}]({MINOR_LINK}) — investigating, started 12 min ago"]),
    ("major", lambda p: json_body(load_payload("major_outage.json")), "major", "Claude: major incident",
     ["status page: **major** — Elevated errors across Claude API and Claude Code",
      "Claude Code: major outage"]),
    ("maintenance", lambda p: json_body(load_payload("maintenance.json")), "maintenance", "Claude: maintenance",
     ["status page: maintenance", "Maintenance in progress: [claude.ai database maintenance]"]),
    ("http_500", lambda p: respond(500, b"upstream connect error"), "unknown", "Claude: status unknown",
     ["status page: unknown", "**Claude status unknown** (HTTP 500)"]),
    ("http_404", lambda p: None, "unknown", "Claude: status unknown", ["**Claude status unknown** (HTTP 404)"]),
    ("timeout", lambda p: delay(60, json_body(OPERATIONAL)), "unknown", "Claude: status unknown",
     [f"**Claude status unknown** (timed out after {CHECK_TIMEOUT} s"]),
    ("invalid_json", lambda p: respond(200, b'{"status": {"indicator": "no', "application/json"), "unknown",
     "Claude: status unknown", ["**Claude status unknown** (not JSON)"]),
    ("html", lambda p: respond(200, load_payload("challenge.html"), "text/html"), "unknown",
     "Claude: status unknown", ["**Claude status unknown** (not JSON)"]),
    ("redirect_off_host", lambda p: redirect(f"http://localhost:{p.port}/elsewhere/api/v2/summary.json"),
     "unknown", "Claude: status unknown", ["**Claude status unknown** (redirect to other host refused)"]),
    ("50_MB_body", lambda p: huge(50 * MB), "unknown", "Claude: status unknown",
     ["**Claude status unknown** (response larger than 2 MB)"]),
]


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize(("case", "behaviour", "indicator", "text", "hover"), CASES, ids=[c[0] for c in CASES])
async def test_hover_and_status_item_show_what_the_page_says(
        editor: LanguageClient, page: StatusPageServer, tmp_path: Path, case: str,
        behaviour: Callable[[StatusPageServer], Behaviour | None], indicator: str, text: str,
        hover: list[str]) -> None:
    made = behaviour(page)
    url = page.serve(f"/{case}", made) if made is not None else page.url(f"/{case}")
    seen = configure(editor, url=url)
    await wait_status(editor, lambda s: s["url"] == url and s["checkedAt"] is None, after=seen)
    assert page.count(f"/{case}") == 0  # a new page is not asked before something fails

    uri = (tmp_path / f"claude-{next(_docs)}.log").as_uri()
    await open_doc(editor, uri, ERR_500 + "\n")
    status = await wait_status(editor, lambda s: s["url"] == url and s["checkedAt"] is not None, after=seen)
    assert status["enabled"] is True and status["indicator"] == indicator and status["text"] == text
    assert status["checkedAt"] == "2026-11-25T10:00:00Z" and status["ageSeconds"] == 0
    known = indicator in ("minor", "major")
    (diag,) = await wait_diagnostics(editor, uri,
                                     lambda d: len(d) == 1 and ("known incident" in d[0].message) == known)
    assert diag.severity == WARNING
    hover_md = await hover_text(editor, uri, diag)
    for expected in hover:
        assert expected in hover_md, (expected, hover_md)
    if indicator == "unknown":
        assert status["tooltip"].startswith("status unknown (") and status["incidentUrl"] is None
    assert page.count(f"/{case}") == 1  # one check, no retry storm (the clock does not move here)
    if case == "minor":
        assert status["incidentUrl"] == MINOR_LINK
        assert diag.message == ("Claude API 500: temporary server error — known incident: "
                                f"{MINOR_NAME} ({MINOR_LINK})")
    if case == "50_MB_body":
        assert page.bytes_sent(f"/{case}") < 50 * MB
    editor.text_document_did_close(types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri)))


# --- time: polling while failing, escalation, known incidents, resolution ---------------------------------------

async def fail_every(client: LanguageClient, uri: str, steps: int, version: int, line: int) -> None:
    """Claude Code keeps failing: 2.5 min pass, then a new 500 lands in the log, `steps` times."""
    for step in range(steps):
        await advance(client, 150)
        append(client, uri, version + step, line + step, ERR_500 + "\n")
        await wait_diagnostics(client, uri, lambda d, n=line + step + 1: len(d) == n)


async def test_polls_only_while_failing_and_escalates_without_incident(
        fresh: LanguageClient, page: StatusPageServer, tmp_path: Path) -> None:
    url = page.serve("/etag", json_body(OPERATIONAL, etag='"v1"'))
    first = await start(fresh, url=url)
    assert first == {"enabled": True, "indicator": "unknown", "text": "Claude: status not checked yet",
                     "tooltip": "The status page is checked while a server-side error is active", "url": url,
                     "incidentUrl": None, "checkedAt": None, "ageSeconds": None}

    auth = (tmp_path / "auth.log").as_uri()
    await open_doc(fresh, auth, AUTH + "\n")
    await wait_diagnostics(fresh, auth, lambda d: len(d) == 1)
    await advance(fresh, 600)
    assert page.count("/etag") == 0  # an expired login is not the status page's business

    uri = (tmp_path / "claude.log").as_uri()
    await open_doc(fresh, uri, ERR_500 + "\n")  # 10:10
    status = await wait_status(fresh, lambda s: s["checkedAt"] is not None)
    assert status["indicator"] == "none" and status["checkedAt"] == "2026-11-25T10:10:00Z"
    await fail_every(fresh, uri, 4, 2, 1)  # 10:20: failing for 10 min, one poll per 2.5 min step
    diags = await wait_diagnostics(fresh, uri, lambda d: d[0].severity == ERROR)
    assert diags[0].message == ("Claude API 500 — failing for 10 min and the status page shows no incident: "
                                "report it with `/bug` in Claude Code")
    text = await hover_text(fresh, uri, diags[0])
    assert "**Next step:** Escalate" in text and "status page: none (no incident)" in text

    await page.wait_for(5, "/etag", answered=True)
    requests = page.requests("/etag")
    assert [r.headers.get("if-none-match") for r in requests] == [None] + ['"v1"'] * 4  # 304s after the first
    assert all(r.headers["user-agent"].startswith("hiccup/") for r in requests)
    result = await execute(fresh, CHECK)  # forced: a sixth request, answered 304 from the cache
    assert result["enabled"] is True and result["indicator"] == "none" and result["url"] == url
    assert result["checkedAt"] == "2026-11-25T10:20:00Z" and result["text"] == "Claude status: all operational"
    await wait_message(fresh, lambda m: m == "Claude status: all operational")

    await advance(fresh, 200)  # no new failure for longer than the 3-min window: recovered, polling stops
    await wait_diagnostics(fresh, uri, lambda d: d[0].severity == types.DiagnosticSeverity.Information)
    await advance(fresh, 600)
    await no_more_requests(page, "/etag", 6)


async def test_known_incident_keeps_waiting_until_the_page_says_resolved(
        fresh: LanguageClient, page: StatusPageServer, tmp_path: Path) -> None:
    url = page.serve("/known", json_body(MINOR))
    await start(fresh, url=url, pollSeconds=60)
    uri = (tmp_path / "claude.log").as_uri()
    await open_doc(fresh, uri, ERR_500 + "\n")
    status = await wait_status(fresh, lambda s: s["indicator"] == "minor")
    assert status["incidentUrl"] == MINOR_LINK and status["tooltip"].startswith(f"{MINOR_NAME} (investigating")

    await fail_every(fresh, uri, 4, 2, 1)  # 10:10: failing for 10 min, but the page knows
    diags = await wait_diagnostics(fresh, uri, lambda d: d[0].data["state"] == "persisting")
    assert {d.severity for d in diags} == {WARNING}
    assert diags[0].message == (f"Claude API 500 — failing for 10 min; known incident: {MINOR_NAME} ({MINOR_LINK}): "
                                "keep waiting")
    text = await hover_text(fresh, uri, diags[0])
    assert f"**Next step:** Keep waiting: the status page has a known incident ([details]({MINOR_LINK}))" in text
    assert page.count("/known") == 5

    page.serve("/known", json_body(OPERATIONAL))  # the incident disappears from the page: resolved
    await advance(fresh, 60)  # 10:11
    await wait_status(fresh, lambda s: s["indicator"] == "none")
    append(fresh, uri, 6, 5, ERR_500 + "\n")  # ... and Claude Code still fails
    diags = await wait_diagnostics(fresh, uri, lambda d: len(d) == 6 and d[0].severity == ERROR)
    assert diags[0].message == ("Claude API 500 — status page says resolved but it still fails after 11 min: "
                                "report it with `/bug` in Claude Code")
    text = await hover_text(fresh, uri, diags[0])
    assert "the status page says resolved but errors continue" in text
    assert f"The page reports [{MINOR_NAME}]({MINOR_LINK}) resolved" in text


# --- settings: off means off, a bad URL keeps the previous one, checkStatusNow -----------------------------------

async def test_disabled_never_asks_then_settings_apply(
        fresh: LanguageClient, page: StatusPageServer, tmp_path: Path) -> None:
    url = page.serve("/off", json_body(OPERATIONAL))
    first = await start(fresh, url=url, enabled=False)
    assert first["enabled"] is False and first["text"] == "Claude: status checks off"

    uri = (tmp_path / "claude.log").as_uri()
    await open_doc(fresh, uri, ERR_500 + "\n")
    await wait_diagnostics(fresh, uri, lambda d: len(d) == 1)
    await advance(fresh, 120)  # a poll interval and more, the 500 still open
    assert await execute(fresh, CHECK) == {"enabled": False}
    await wait_message(fresh, lambda m: "turned off (setting hiccup.statusPage.enabled)" in m)
    assert page.count("/off") == 0

    seen = configure(fresh, url=url, enabled=True)  # on again, with a 500 still open: checks at once
    status = await wait_status(fresh, lambda s: s["enabled"] and s["checkedAt"] is not None, after=seen)
    assert status["indicator"] == "none" and page.count("/off") == 1

    configure(fresh, url="https://hiccup:hunter22@status.example.com", enabled=True)
    message = await wait_message(fresh, lambda m: "hiccup.statusPage.url" in m)
    assert message.type == types.MessageType.Warning
    assert "must not contain a user name or password" in message.message and "previous value" in message.message
    assert "hunter22" not in message.message

    page.serve("/off", respond(500))
    result = await execute(fresh, CHECK)  # the previous URL is still the one asked
    assert result["url"] == url and result["indicator"] == "unknown" and result["reason"] == "HTTP 500"
    assert result["lastGood"]["indicator"] == "none"
    await wait_message(fresh, lambda m: m.startswith("Claude status unknown (HTTP 500); last good answer"))
    assert page.count("/off") == 2

    seen = configure(fresh, url=url, enabled=False)
    status = await wait_status(fresh, lambda s: not s["enabled"], after=seen)
    text = await hover_text(fresh, uri, (await wait_diagnostics(fresh, uri))[0])
    assert "Claude status" not in text  # off: the hover no longer shows an answer from when it was on
