"""From status page answers to incident advice: when to ask, and what an answer means (no network, no server)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from hiccup.advice import hover_markdown
from hiccup.catalog import builtin_catalog
from hiccup.classifier import Finding
from hiccup.incidents import UNKNOWN_STATUS, IncidentStore, State, Thresholds
from hiccup.status import StatusSummary, parse_summary
from hiccup.status_facts import needs_status, status_facts
from statuspage_server import load_payload

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
TH = Thresholds()


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def finding(category: str = "internal_server_error") -> Finding:
    return Finding(line=0, start=0, end=10, category=category, http_status=500, error_type="api_error",
                   request_id=None, attempt=None, timestamp=None, reset_at=None, reset_text=None,
                   excerpt="API Error: 500", fmt="log")


@pytest.fixture
def store() -> IncidentStore:
    return IncidentStore(builtin_catalog().get)


def summary(name: str, at: datetime = T0) -> StatusSummary:
    return parse_summary(load_payload(name), fetched_at=at)


def test_asks_only_while_a_server_side_incident_is_open(store: IncidentStore) -> None:
    assert not needs_status(store)
    store.observe("a.log", 1, finding("authentication"), T0)
    store.evaluate(T0, UNKNOWN_STATUS, TH)
    assert not needs_status(store)  # a login problem is never the status page's to explain
    store.observe("a.log", 2, finding(), T0)
    store.evaluate(T0, UNKNOWN_STATUS, TH)
    assert needs_status(store)
    assert not needs_status(store, ignored={"internal_server_error"})
    store.evaluate(minutes(4), UNKNOWN_STATUS, TH)  # quiet for longer than its window: recovered
    assert not needs_status(store)


def test_known_incident_indicator_and_hover_text(store: IncidentStore) -> None:
    assert status_facts(None, store, T0) == UNKNOWN_STATUS
    facts = status_facts(summary("minor_incident.json"), store, T0)
    assert (facts.known_incident, facts.incident_url, facts.indicator) == (
        "Elevated errors on Claude Opus 4", "https://stspg.io/q4xy0v2kd1hw", "minor")
    assert facts.markdown is not None and "**Incident:**" in facts.markdown
    assert not facts.resolved_but_failing

    facts = status_facts(summary("maintenance.json"), store, T0)
    assert facts.indicator == "maintenance" and facts.known_incident is None

    unknown = StatusSummary.unknown("HTTP 500", T0, last_good=summary("minor_incident.json"))
    facts = status_facts(unknown, store, T0)
    assert facts.indicator == "unknown" and facts.known_incident is None  # an old answer is not a known incident
    assert facts.markdown is not None and facts.markdown.startswith("**Claude status unknown** (HTTP 500)")


def test_resolved_but_failing_needs_a_failure_after_the_resolution(store: IncidentStore) -> None:
    minor = summary("minor_incident.json")
    page = replace(summary("operational.json", minutes(8.5)),
                   resolved=(replace(minor.incidents[0], status="resolved", resolved_at=minutes(8.5)),))
    for n in range(0, 10, 2):  # failing every 2 min since 10:00
        incident = store.observe("a.log", n, finding(), minutes(n))
    store.evaluate(minutes(8.5), UNKNOWN_STATUS, TH)
    assert not status_facts(page, store, minutes(8.5)).resolved_but_failing  # the failures all came before

    store.observe("a.log", 10, finding(), minutes(9))
    store.evaluate(minutes(9), UNKNOWN_STATUS, TH)
    facts = status_facts(page, store, minutes(9))
    assert facts.resolved_but_failing and facts.known_incident is None
    assert not status_facts(page, store, minutes(40)).resolved_but_failing  # resolved too long ago

    store.evaluate(minutes(9), facts, TH)
    assert incident.state == State.ESCALATE
    hover = hover_markdown(incident, incident.latest, minutes(9), facts, TH, tz=UTC)
    assert "the status page says resolved but errors continue" in hover
    assert "The page reports [Elevated errors on Claude Opus 4]" in hover
