"""Between the status page and the incidents: when to ask the page at all, and what its answer means for advice.

`hiccup.status` says what the page reports; `hiccup.incidents` decides "keep waiting" or "report it". This module
turns the first into the `StatusFacts` the second reads. No pygls, and no httpx: the summary type is imported for
annotations only, so importing this module costs nothing at server start-up.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from hiccup.incidents import UNKNOWN_STATUS, Incident, StatusFacts

if TYPE_CHECKING:
    from hiccup.status import StatusSummary

# How long after the page reports an incident resolved a failure still counts as "resolved, yet failing".
RESOLVED_WINDOW_MIN = 30.0


def _server_side_open(incidents: Iterable[Incident], ignored: Collection[str]) -> list[Incident]:
    return [i for i in incidents if i.is_open and i.category.transient and i.category.id not in ignored]


def needs_status(incidents: Iterable[Incident], ignored: Collection[str] = ()) -> bool:
    """Ask the status page only while a server-side failure (500, 529, timeouts: a transient category) is open.

    Only then is "is it me or them?" a question the page can answer; an expired login or a usage limit never
    is, and a category the user ignores has no diagnostic to explain.
    """
    return bool(_server_side_open(incidents, ignored))


def status_facts(summary: StatusSummary | None, incidents: Iterable[Incident], now: datetime,
                 ignored: Collection[str] = ()) -> StatusFacts:
    """What the latest answer means for advice at `now`.

    A relevant open incident on the page is the known incident (with its shortlink). Without one, an incident the
    page reported resolved within the last half hour, while a server-side failure of ours was seen at or after
    that moment, means "resolved but still failing": waiting for the page will not help, so it escalates. An
    unknown answer (the check failed) knows no incident, so a long failure escalates as if the page were silent.
    """
    if summary is None:
        return UNKNOWN_STATUS
    incident = summary.matching_incident() if summary.ok else None
    resolved = summary.resolved_recently(RESOLVED_WINDOW_MIN, now=now) if incident is None else None
    resolved_at = resolved.resolved_at if resolved is not None else None
    failing = resolved_at is not None and any(i.last_seen >= resolved_at
                                              for i in _server_side_open(incidents, ignored))
    return StatusFacts(
        known_incident=incident.name if incident is not None else None,
        incident_url=incident.shortlink if incident is not None else None,
        indicator=summary.indicator,
        resolved_but_failing=failing,
        markdown=summary.markdown(now),
    )
