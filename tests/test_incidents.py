"""The incident state machine, driven by hand-made findings and explicit times."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from hiccup.catalog import builtin_catalog
from hiccup.classifier import Finding
from hiccup.incidents import (
    IncidentStore,
    Reminders,
    State,
    StatusFacts,
    Thresholds,
    compute_state,
)

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
TH = Thresholds()
NO_STATUS = StatusFacts()


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def finding(category: str = "internal_server_error", line: int = 0, **kw: object) -> Finding:
    base = Finding(line=line, start=0, end=10, category=category, http_status=500, error_type="api_error",
                   request_id=None, attempt=None, timestamp=None, reset_at=None, reset_text=None,
                   excerpt="API Error: 500", fmt="log")
    return replace(base, **kw)  # type: ignore[arg-type]


@pytest.fixture
def store() -> IncidentStore:
    return IncidentStore(builtin_catalog().get)


def failing_every(store: IncidentStore, step: float, until: float, source: str = "a.log",
                  category: str = "internal_server_error") -> None:
    t, n = 0.0, 0
    while t <= until:
        store.observe(source, (source, n), finding(category), minutes(t))
        t += step
        n += 1


def test_repeats_join_one_incident_and_a_quiet_gap_starts_another(store: IncidentStore) -> None:
    a = store.observe("a.log", 1, finding(), minutes(0))
    b = store.observe("a.log", 2, finding(), minutes(2))
    c = store.observe("a.log", 3, finding(), minutes(9))  # 7 min after the last: longer than the 3-min window
    assert a is b and c is not a
    assert (a.count, a.first_seen, a.last_seen) == (2, minutes(0), minutes(2))
    assert a.index_of(2) == 2 and c.index_of(3) == 1


def test_sources_and_categories_do_not_mix(store: IncidentStore) -> None:
    a = store.observe("a.log", 1, finding(), minutes(0))
    assert store.observe("b.log", 2, finding(), minutes(0)) is not a
    assert store.observe("a.log", 3, finding("overloaded"), minutes(0)) is not a


def test_own_timestamp_wins_over_observation_time(store: IncidentStore) -> None:
    incident = store.observe("a.log", 1, finding(timestamp=minutes(-30)), minutes(0))
    assert incident.first_seen == minutes(-30)


@pytest.mark.parametrize(("at", "state"), [
    (0, State.ACTIVE), (4.9, State.ACTIVE), (5, State.PERSISTING), (9.9, State.PERSISTING), (10, State.ESCALATE),
])
def test_transient_failures_persist_then_escalate(store: IncidentStore, at: float, state: State) -> None:
    failing_every(store, 2, at)
    (incident,) = store
    assert compute_state(incident, minutes(at), NO_STATUS, TH) == state


def test_a_known_incident_means_keep_waiting(store: IncidentStore) -> None:
    failing_every(store, 2, 12)
    (incident,) = store
    known = StatusFacts(known_incident="Elevated errors on Claude Opus", indicator="minor")
    assert compute_state(incident, minutes(12), known, TH) == State.PERSISTING
    assert compute_state(incident, minutes(12), NO_STATUS, TH) == State.ESCALATE
    resolved = StatusFacts(indicator="none", resolved_but_failing=True)
    assert compute_state(incident, minutes(6), resolved, TH) == State.ESCALATE


def test_failing_after_a_restart_escalates(store: IncidentStore) -> None:
    incident = store.observe("a.log", 1, finding(), minutes(0))
    store.record_restart(incident.id, minutes(1))
    assert compute_state(incident, minutes(1.5), NO_STATUS, TH) == State.ACTIVE
    store.observe("a.log", 2, finding(), minutes(2))
    assert compute_state(incident, minutes(2), NO_STATUS, TH) == State.ESCALATE


def test_quiet_gap_recovers_and_old_errors_go_stale(store: IncidentStore) -> None:
    incident = store.observe("a.log", 1, finding(), minutes(0))
    assert compute_state(incident, minutes(3), NO_STATUS, TH) == State.ACTIVE
    assert compute_state(incident, minutes(3.1), NO_STATUS, TH) == State.RECOVERED
    assert compute_state(incident, minutes(121), NO_STATUS, TH) == State.STALE


def test_recovery_ends_only_earlier_failures(store: IncidentStore) -> None:
    incident = store.observe("a.log", 1, finding(), minutes(0))
    assert store.recover("a.log", minutes(-1)) == []
    assert store.recover("a.log", minutes(1)) == [incident]
    assert compute_state(incident, minutes(1), NO_STATUS, TH) == State.RECOVERED
    assert store.observe("a.log", 2, finding(), minutes(2)) is not incident  # after the recovery: a new one


def test_user_action_categories_are_active_until_they_stop(store: IncidentStore) -> None:
    incident = store.observe("a.log", 1, finding("authentication", http_status=401), minutes(0))
    assert compute_state(incident, minutes(30), NO_STATUS, TH) == State.ACTIVE  # never "persisting": no restart
    assert compute_state(incident, minutes(61), NO_STATUS, TH) == State.RECOVERED


def test_usage_limit_holds_until_reset_even_past_stale(store: IncidentStore) -> None:
    incident = store.observe("a.log", 1, finding("usage_limit", reset_at=minutes(180)), minutes(0))
    assert compute_state(incident, minutes(150), NO_STATUS, TH) == State.ACTIVE
    assert compute_state(incident, minutes(181), NO_STATUS, TH) == State.RECOVERED
    assert compute_state(incident, minutes(301), NO_STATUS, TH) == State.STALE


def test_settings_replace_standard_timings_only() -> None:
    catalog = builtin_catalog()
    th = Thresholds(restart_after_min=2, escalate_after_min=4)
    assert th.restart_after(catalog.get("internal_server_error")) == timedelta(minutes=2)
    assert th.escalate_after(catalog.get("internal_server_error")) == timedelta(minutes=4)
    assert th.escalate_after(catalog.get("rate_limit")) == timedelta(minutes=30)  # its own timing
    assert th.restart_after(catalog.get("authentication")) is None


def test_evaluate_reports_changes_and_next_change_is_exact(store: IncidentStore) -> None:
    store.observe("a.log", 1, finding(), minutes(0))
    assert [i.state for i in store.evaluate(minutes(0), NO_STATUS, TH)] == []
    store.observe("a.log", 2, finding(), minutes(2.5))
    assert store.next_change(minutes(2.5), TH) == minutes(5)  # the restart threshold
    changed = store.evaluate(minutes(5), NO_STATUS, TH)
    assert [i.state for i in changed] == [State.PERSISTING]
    assert store.next_change(minutes(5), TH) == minutes(5.5) + timedelta(microseconds=1)  # quiet gap ends it


def test_stale_incidents_do_not_wake_the_timer(store: IncidentStore) -> None:
    store.observe("old.jsonl", 1, finding(), minutes(0))
    (stale,) = store.evaluate(minutes(200), NO_STATUS, TH)
    assert stale.state == State.STALE and store.next_change(minutes(200), TH) is None
    store.observe("old.jsonl", 2, finding(), minutes(200))  # a new failure: a new incident, timed again
    store.evaluate(minutes(200), NO_STATUS, TH)
    assert store.next_change(minutes(200), TH) == minutes(203) + timedelta(microseconds=1)


def test_forget_and_drop_source(store: IncidentStore) -> None:
    a = store.observe("a.log", 1, finding(), minutes(0))
    store.observe("a.log", 2, finding(), minutes(1))
    assert store.forget([1]) == {a.id} and a.count == 1 and store.of_key(1) is None
    assert store.forget([2]) == {a.id} and store.get(a.id) is None
    store.observe("b.log", 3, finding(), minutes(0))
    assert len(store.drop_source("b.log")) == 1 and len(store) == 0


def test_reminders() -> None:
    reminders = Reminders()
    reminders.arm("inc-1", minutes(5))
    reminders.arm("inc-2", minutes(3))
    assert reminders.next_due() == minutes(3) and reminders.is_armed("inc-1")
    assert reminders.pop_due(minutes(4)) == ["inc-2"]
    assert reminders.cancel("inc-1") and not reminders.cancel("inc-1")
    assert reminders.next_due() is None


def test_a_flood_keeps_memory_bounded_and_counts_every_occurrence(store: IncidentStore) -> None:
    from hiccup.incidents import MAX_OCCURRENCES

    total = MAX_OCCURRENCES * 3
    for n in range(total):
        store.observe("flood.log", n, finding(), T0 + timedelta(milliseconds=n))
    (incident,) = list(store)
    assert len(incident.occurrences) <= MAX_OCCURRENCES
    assert incident.count == total and incident.first_seen == T0  # the first one dates the incident
    assert incident.index_of(0) == 1 and incident.index_of(total - 1) == total
    assert incident.index_of(1) == 0 and store.of_key(1) is None  # an old repeat was let go, key and all
    last = total - 1
    assert incident.nth(incident.index_of(last)).key == last


def test_numbers_follow_edits_of_the_occurrence_list(store: IncidentStore) -> None:
    for n in range(3):
        store.observe("a.log", n, finding(), minutes(n / 10))
    (incident,) = list(store)
    assert [incident.index_of(k) for k in range(3)] == [1, 2, 3]
    store.forget([1])
    store.observe("a.log", 9, finding(), minutes(0.05))  # same length as before, out of order
    assert [incident.index_of(k) for k in (0, 9, 2)] == [1, 2, 3] and incident.index_of(1) == 0


def test_dropped_sources_leave_nothing_behind_for_later_findings(store: IncidentStore) -> None:
    first = store.observe("a.log", 1, finding(), minutes(0))
    store.drop_source("a.log")
    again = store.observe("a.log", 2, finding(), minutes(0.5))
    assert again is not first and list(store) == [again]
