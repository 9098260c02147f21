"""The words users read: first lines that stand alone, hovers that say what to do now, safe reports."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from hiccup.advice import diagnostic_message, duration, error_report, hover_markdown, ordinal, reminder_prompt
from hiccup.catalog import builtin_catalog
from hiccup.classifier import Finding
from hiccup.incidents import Incident, IncidentStore, State, StatusFacts, Thresholds

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
SECRET = "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUv"


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def finding(category: str = "internal_server_error", **kw: object) -> Finding:
    base = Finding(line=0, start=0, end=10, category=category, http_status=500, error_type="api_error",
                   request_id="req_011CAbCdEfGh1234", attempt=(3, 10), timestamp=None, reset_at=None,
                   reset_text=None, excerpt=f"API Error: 500 Authorization: Bearer {SECRET}", fmt="log")
    return replace(base, **kw)  # type: ignore[arg-type]


def incident(times: list[float], state: State = State.ACTIVE, category: str = "internal_server_error",
             **kw: object) -> Incident:
    store = IncidentStore(builtin_catalog().get)
    for i, t in enumerate(times):
        inc = store.observe("a.log", i, finding(category, **kw), at(t))
    inc.state = state
    return inc


def test_small_words() -> None:
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st"]
    assert [duration(timedelta(seconds=s)) for s in (30, 61, 3600, 3900, 3 * 86400)] == [
        "<1 min", "1 min", "1 h", "1 h 5 min", "3 days"]


@pytest.mark.parametrize(("state", "index", "now", "expected"), [
    (State.ACTIVE, 1, 0, "Claude API 500: temporary server error — usually clears in 1–3 min"),
    (State.ACTIVE, 3, 4, "Claude API 500 — 3rd time in 4 min"),
    (State.PERSISTING, 3, 6, "Claude API 500 — failing for 6 min: restarting Claude Code is now reasonable"),
    (State.ESCALATE, 3, 11, "Claude API 500 — failing for 11 min with no known incident: "
                            "report it with `/bug` in Claude Code"),
    (State.RECOVERED, 1, 9, "Claude API 500 — cleared: no new failures since 10:04"),
    (State.STALE, 1, 200, "Claude API 500 — old error from 10:04 (3 h 16 min ago)"),
])
def test_first_lines(state: State, index: int, now: float, expected: str) -> None:
    inc = incident([0, 2, 4], state)
    assert diagnostic_message(inc, index, at(now), tz=UTC) == expected


def test_known_incident_and_restarts_change_the_words() -> None:
    inc = incident([0, 2, 4, 6, 8, 10], State.PERSISTING)
    known = StatusFacts(known_incident="Elevated errors on Claude Opus", incident_url="https://stspg.io/x",
                        indicator="minor")
    assert diagnostic_message(inc, 1, at(11), known) == (
        "Claude API 500 — failing for 11 min; known incident: Elevated errors on Claude Opus (https://stspg.io/x): "
        "keep waiting")
    inc.state = State.ACTIVE
    assert diagnostic_message(inc, 1, at(1), known) == (
        "Claude API 500: temporary server error — known incident: Elevated errors on Claude Opus "
        "(https://stspg.io/x)")
    assert diagnostic_message(inc, 2, at(2), known).endswith("2nd time in 2 min; known incident: Elevated errors "
                                                             "on Claude Opus (https://stspg.io/x)")
    inc.restarts.append(at(9))
    inc.state = State.ESCALATE
    assert "still failing after restarting Claude Code" in diagnostic_message(inc, 1, at(11))
    hover = hover_markdown(inc, inc.latest, at(11), known, tz=UTC)
    assert "Elevated errors on Claude Opus" in hover and "https://stspg.io/x" in hover
    assert "restarting did not help" in hover and "restarted 1×" in hover


def test_usage_limit_and_user_action_categories() -> None:
    inc = incident([0], category="usage_limit", reset_at=at(300), reset_text="3pm")
    assert diagnostic_message(inc, 1, at(18), tz=UTC) == "Usage limit reached — resets at 15:00 (in 4 h 42 min)"
    assert diagnostic_message(inc, 1, at(301), tz=UTC) == "Usage limit reached — reset time 15:00 has passed: try again"
    auth = incident([0], category="authentication", http_status=401)
    assert diagnostic_message(auth, 1, at(0)) == (
        "Claude API 401: authentication failed — run `/login` in Claude Code to sign in again")


def test_hover_is_scannable_and_redacted() -> None:
    inc = incident([0, 2, 4])
    text = hover_markdown(inc, inc.latest, at(4), th=Thresholds(), reminder_due=at(9), tz=UTC)
    assert text.startswith("**Claude API 500: temporary server error** · Internal server error")
    assert "**Now:** **active** · for 4 min · seen 3 times, first at 10:00 · last at 10:04" in text
    assert "retry 3/10" in text and "reminder set for 10:09" in text
    assert "**Next step:** Wait" in text and "If it still fails at 10:05" in text
    assert "**Don't**" in text and "`req_011CAbCdEfGh1234`" in text
    assert SECRET not in text


@pytest.mark.parametrize("state", [State.RECOVERED, State.STALE])
def test_hover_for_the_past_says_nothing_to_do(state: State) -> None:
    inc = incident([0], state)
    text = hover_markdown(inc, inc.latest, at(300))
    assert "Nothing to do" in text and "**Don't**" not in text


def test_report_and_reminder() -> None:
    inc = incident([0, 3])
    report = error_report(inc, at(5), extra={"editor": "Neovim 0.7.2"})
    assert "req_011CAbCdEfGh1234" in report and "2026-11-25T10:00:00Z" in report and "Neovim 0.7.2" in report
    assert SECRET not in report and "[REDACTED]" in report
    assert "still failing (5 min, 2× so far)" in reminder_prompt(inc, at(5))


def test_status_page_text_cannot_inject_markdown_or_links() -> None:
    from hiccup.advice import status_line
    from hiccup.incidents import StatusFacts

    line = status_line(StatusFacts(known_incident="Errors [click](http://evil) *now*",
                                   incident_url="https://stspg.io/x", indicator="minor"))
    assert line is not None and "[click](http://evil)" not in line and "(https://stspg.io/x)" in line
    line = status_line(StatusFacts(known_incident="x", incident_url="javascript:alert(1)", indicator="minor"))
    assert line is not None and "javascript" not in line
