"""Incidents: occurrences of one failure category in one source, grouped while they keep coming.

A single `API Error: 500` means "wait a minute"; the same error every minute for ten minutes means "restart, then
report it". The advice depends on how long a failure has lasted, so findings are grouped into incidents and each
incident carries a state that moves with time alone:

    active ──(restart threshold)──▶ persisting ──(escalate threshold, no known incident)──▶ escalate
       │                                 │                    ▲ still failing after a restart
       └──── quiet gap / successful reply / reset time ──▶ recovered ──(stale threshold)──▶ stale

Everything here is plain data and arithmetic on datetimes handed in by the caller (see `clock.py`), so the state
machine is tested without an editor and without waiting.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hiccup.catalog import Category
    from hiccup.classifier import Finding
    from hiccup.settings import Settings

# The catalog's standard server-error timings, which the user's settings replace (see `Thresholds`).
STANDARD_RESTART_MIN = 5.0
STANDARD_ESCALATE_MIN = 10.0
# Occurrences kept per incident (the first and the most recent); a followed log shows its newest 500 anyway.
MAX_OCCURRENCES = 8000


class State(StrEnum):
    ACTIVE = "active"
    PERSISTING = "persisting"
    ESCALATE = "escalate"
    RECOVERED = "recovered"
    STALE = "stale"


OPEN_STATES = frozenset({State.ACTIVE, State.PERSISTING, State.ESCALATE})


@dataclass(frozen=True, slots=True)
class StatusFacts:
    """What the status page says right now, as far as incident advice cares.

    Fed by the status monitor (`hiccup.status`); the default means "unknown" (not configured or not fetched yet).
    """

    known_incident: str | None = None  # "Elevated errors on Claude Opus"
    incident_url: str | None = None
    indicator: str | None = None  # none | minor | major | critical | maintenance | unknown
    resolved_but_failing: bool = False  # the page says resolved, yet requests still fail
    markdown: str | None = None  # a short summary the hover can show as is


UNKNOWN_STATUS = StatusFacts()


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The user's timing settings, applied to categories that use the standard server-error timings.

    Categories with their own timing in the catalog (rate limits escalate after 30 min, not 10) keep it, and a
    category without a restart step (auth, usage limits) never gets one, whatever the settings say.
    """

    restart_after_min: float = STANDARD_RESTART_MIN
    escalate_after_min: float = STANDARD_ESCALATE_MIN
    stale_after_min: float = 120.0

    @classmethod
    def from_settings(cls, settings: Settings) -> Thresholds:
        return cls(settings.restart_after_minutes, settings.escalate_after_minutes, settings.stale_after_minutes)

    def restart_after(self, category: Category) -> timedelta | None:
        value = category.timings.restart_after_min
        if value is None:
            return None
        return timedelta(minutes=self.restart_after_min if value == STANDARD_RESTART_MIN else value)

    def escalate_after(self, category: Category) -> timedelta | None:
        value = category.timings.escalate_after_min
        if value is None:
            return None
        return timedelta(minutes=self.escalate_after_min if value == STANDARD_ESCALATE_MIN else value)

    @property
    def stale_after(self) -> timedelta:
        return timedelta(minutes=self.stale_after_min)


@dataclass(frozen=True, slots=True)
class Occurrence:
    key: Hashable  # the caller's handle (document URI + line entry) to forget it when its line is edited away
    at: datetime  # the finding's own timestamp, else when it was first observed
    finding: Finding


@dataclass(eq=False)
class Incident:
    id: str
    category: Category
    source: str
    occurrences: list[Occurrence] = field(default_factory=list)  # sorted by `at`
    restarts: list[datetime] = field(default_factory=list)
    recovered_at: datetime | None = None  # a successful exchange was seen after the last failure
    state: State = State.ACTIVE
    # Some occurrence says when a limit resets. `reset_at` is asked for every diagnostic of a list: without this,
    # publishing a log with 2,000 repeats of an error scanned all 2,000 occurrences 2,000 times.
    has_reset: bool = field(default=False, repr=False)
    # Occurrences dropped from the middle to bound memory (see MAX_OCCURRENCES); they still count.
    trimmed: int = 0
    _numbers: dict[Hashable, int] | None = field(default=None, repr=False)  # None: to be rebuilt

    def __post_init__(self) -> None:
        self.has_reset = self.has_reset or self.mentions_reset()

    def mentions_reset(self) -> bool:
        return any(o.finding.reset_at is not None for o in self.occurrences)

    @property
    def first_seen(self) -> datetime:
        return self.occurrences[0].at

    @property
    def last_seen(self) -> datetime:
        return self.occurrences[-1].at

    @property
    def count(self) -> int:
        return len(self.occurrences) + self.trimmed

    @property
    def latest(self) -> Finding:
        return self.occurrences[-1].finding

    @property
    def reset_at(self) -> datetime | None:
        """When a usage limit lifts, from the most recent message that said so."""
        if not self.has_reset:
            return None
        for occ in reversed(self.occurrences):
            if occ.finding.reset_at is not None:
                return occ.finding.reset_at
        return None

    @property
    def request_ids(self) -> list[str]:
        return list(dict.fromkeys(o.finding.request_id for o in self.occurrences if o.finding.request_id))

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    def index_of(self, key: Hashable) -> int:
        """1-based position of an occurrence ("3rd time"), 0 if unknown."""
        return self.numbers().get(key, 0)

    def numbers(self) -> dict[Hashable, int]:
        """Every occurrence's 1-based position, built once per change of the list rather than once per
        diagnostic: a publish numbers up to 2,000 repeats of one incident."""
        if self._numbers is None:
            skip = self.trimmed
            self._numbers = {o.key: i + (skip if i > 1 else 0) for i, o in enumerate(self.occurrences, 1)}
        return self._numbers

    def changed(self) -> None:
        """The occurrence list was edited: positions are rebuilt on the next `numbers()`."""
        self._numbers = None

    def nth(self, number: int) -> Occurrence:
        """The occurrence at 1-based position `number` (as given by `numbers`)."""
        return self.occurrences[number - 1 if number <= 1 else number - 1 - self.trimmed]

    def elapsed(self, now: datetime) -> timedelta:
        return max(now - self.first_seen, timedelta(0))

    def _window(self) -> timedelta:
        return timedelta(minutes=self.category.timings.clears_within_min)

    def accepts(self, at: datetime) -> bool:
        """Does a failure at `at` belong to this incident (no quiet gap, no recovery in between)?"""
        if self.recovered_at is not None and at > self.recovered_at:
            return False
        return self.first_seen - self._window() <= at <= self.last_seen + self._window()


def compute_state(incident: Incident, now: datetime, status: StatusFacts, th: Thresholds) -> State:
    """The state an incident is in at `now`; see the module docstring for the picture."""
    reset = incident.reset_at
    limit_pending = reset is not None and reset > now
    # a usage limit is old news only some time after it lifted, not after it was announced
    settled = max(incident.last_seen, reset) if reset is not None else incident.last_seen
    if not limit_pending and now - settled > th.stale_after:
        return State.STALE
    if incident.recovered_at is not None:
        return State.RECOVERED
    if reset is not None:
        return State.ACTIVE if limit_pending else State.RECOVERED
    if now - incident.last_seen > incident._window():
        return State.RECOVERED
    cat = incident.category
    if not cat.transient:
        return State.ACTIVE
    elapsed = incident.elapsed(now)
    restart, escalate = th.restart_after(cat), th.escalate_after(cat)
    if incident.restarts and incident.last_seen > incident.restarts[-1]:
        return State.ESCALATE
    past_restart = restart is not None and elapsed >= restart
    if past_restart and status.resolved_but_failing:
        return State.ESCALATE
    if escalate is not None and elapsed >= escalate:
        return State.PERSISTING if status.known_incident else State.ESCALATE
    return State.PERSISTING if past_restart else State.ACTIVE


def next_change(incident: Incident, now: datetime, th: Thresholds) -> datetime | None:
    """The earliest future moment at which `compute_state` may answer differently (for the server's timer)."""
    cat = incident.category
    moments = [incident.last_seen + incident._window() + timedelta(microseconds=1),
               incident.last_seen + th.stale_after + timedelta(microseconds=1)]
    if incident.reset_at is not None:
        moments += [incident.reset_at, incident.reset_at + th.stale_after]
    for after in (th.restart_after(cat), th.escalate_after(cat)):
        if after is not None:
            moments.append(incident.first_seen + after)
    future = [m for m in moments if m > now]
    return min(future) if future else None


class IncidentStore:
    """All incidents of one server, by source (document URI or watched file)."""

    def __init__(self, category_of: Callable[[str], Category]) -> None:
        self._category_of = category_of
        self._incidents: dict[str, Incident] = {}
        self._by_key: dict[Hashable, str] = {}
        # (source, category) → its incidents: `observe` looks only there, not at every incident of every source
        self._by_kind: dict[tuple[str, str], list[Incident]] = {}
        self._ids = itertools.count(1)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(list(self._incidents.values()))

    def __len__(self) -> int:
        return len(self._incidents)

    def get(self, incident_id: str) -> Incident | None:
        return self._incidents.get(incident_id)

    def of_key(self, key: Hashable) -> Incident | None:
        incident_id = self._by_key.get(key)
        return self._incidents.get(incident_id) if incident_id else None

    def for_source(self, source: str) -> list[Incident]:
        return [i for i in self._incidents.values() if i.source == source]

    def observe(self, source: str, key: Hashable, finding: Finding, observed_at: datetime) -> Incident:
        """Record one occurrence; it joins the open incident it belongs to, or starts a new one."""
        at = finding.timestamp or observed_at
        kind = self._by_kind.setdefault((source, finding.category), [])
        candidates = [i for i in kind if i.accepts(at)]
        if candidates:
            incident = max(candidates, key=lambda i: i.last_seen)
        else:
            incident = Incident(f"inc-{next(self._ids)}", self._category_of(finding.category), source)
            self._incidents[incident.id] = incident
            kind.append(incident)
        occ = Occurrence(key, at, finding)
        bisect.insort(incident.occurrences, occ, key=lambda o: o.at)
        incident.changed()
        incident.has_reset = incident.has_reset or finding.reset_at is not None
        self._by_key[key] = incident.id
        if len(incident.occurrences) > MAX_OCCURRENCES:
            self._trim(incident)
        return incident

    def _trim(self, incident: Incident) -> None:
        """Drop the oldest occurrences but the first (it dates the incident), in one batch so a flood costs
        amortised constant time per line: a log taking 100,000 errors a minute must not grow without end."""
        drop = incident.occurrences[1:len(incident.occurrences) - MAX_OCCURRENCES * 3 // 4]
        for occ in drop:
            self._by_key.pop(occ.key, None)
        incident.occurrences[1:1 + len(drop)] = []
        incident.trimmed += len(drop)
        incident.changed()
        if incident.has_reset:  # the reset message may have been among the dropped
            incident.has_reset = incident.mentions_reset()

    def _unindex(self, incident: Incident) -> None:
        kind = self._by_kind.get((incident.source, incident.category.id))
        if kind is not None:
            kind.remove(incident)
            if not kind:
                del self._by_kind[(incident.source, incident.category.id)]

    def recover(self, source: str, at: datetime) -> list[Incident]:
        """A successful exchange at `at` ends the source's incidents whose failures all came before it."""
        ended = [i for i in self._incidents.values()
                 if i.source == source and i.recovered_at is None and i.last_seen <= at]
        for incident in ended:
            incident.recovered_at = at
        return ended

    def forget(self, keys: Iterable[Hashable]) -> set[str]:
        """Drop occurrences whose lines were edited away; returns the ids of the incidents touched."""
        touched: set[str] = set()
        for key in keys:
            incident_id = self._by_key.pop(key, None)
            incident = self._incidents.get(incident_id) if incident_id else None
            if incident is None:
                continue
            incident.occurrences = [o for o in incident.occurrences if o.key != key]
            incident.changed()
            touched.add(incident.id)
            if not incident.occurrences:
                del self._incidents[incident.id]
                self._unindex(incident)
        return touched

    def drop_source(self, source: str) -> list[str]:
        """Forget a source entirely (its document closed and nobody follows the file)."""
        gone = [i.id for i in self._incidents.values() if i.source == source]
        for incident_id in gone:
            incident = self._incidents.pop(incident_id)
            self._unindex(incident)
            for occ in incident.occurrences:
                self._by_key.pop(occ.key, None)
        return gone

    def record_restart(self, incident_id: str, at: datetime) -> Incident | None:
        incident = self._incidents.get(incident_id)
        if incident is not None:
            incident.restarts.append(at)
        return incident

    def evaluate(self, now: datetime, status: StatusFacts, th: Thresholds,
                 source: str | None = None) -> list[Incident]:
        """Bring every state (or one source's) up to `now`; returns the incidents whose state changed."""
        changed = []
        for incident in (self._incidents.values() if source is None else self.for_source(source)):
            state = compute_state(incident, now, status, th)
            if state != incident.state:
                incident.state = state
                changed.append(incident)
        return changed

    def next_change(self, now: datetime, th: Thresholds, source: str | None = None) -> datetime | None:
        """The earliest moment an incident may change state by time alone (as of the last `evaluate`).

        A stale incident stays stale until a new occurrence or new settings, and both re-evaluate it. Skipping
        them matters: the server's timer asks after every change, and a thousand followed transcripts make a
        thousand mostly stale incidents.
        """
        incidents = self._incidents.values() if source is None else self.for_source(source)
        moments = [m for i in incidents if i.state != State.STALE and (m := next_change(i, now, th)) is not None]
        return min(moments) if moments else None


class Reminders:
    """'Remind me to restart in 5 min' timers, as due times the server's tick checks (no threads, no sleeps)."""

    def __init__(self) -> None:
        self._due: dict[str, datetime] = {}

    def arm(self, incident_id: str, due: datetime) -> None:
        self._due[incident_id] = due

    def cancel(self, incident_id: str) -> bool:
        return self._due.pop(incident_id, None) is not None

    def due_of(self, incident_id: str) -> datetime | None:
        return self._due.get(incident_id)

    def is_armed(self, incident_id: str) -> bool:
        return incident_id in self._due

    def pop_due(self, now: datetime) -> list[str]:
        due = sorted((t, i) for i, t in self._due.items() if t <= now)
        for _, incident_id in due:
            del self._due[incident_id]
        return [i for _, i in due]

    def next_due(self) -> datetime | None:
        return min(self._due.values()) if self._due else None

    def armed(self) -> list[str]:
        return list(self._due)
