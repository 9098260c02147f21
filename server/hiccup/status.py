"""Claude status page client and polite poller (Atlassian Statuspage v2, `/api/v2/summary.json`).

When Claude Code prints "API Error: 500" the first question is "is it me or them?". The public status
page answers it, but only if we ask politely (one request at a time, conditional requests, backoff, nothing
while no server-side error is active) and safely (https only, hard timeouts, a size cap, no redirects off the
host, no cookies or credentials). Every failure becomes a `StatusSummary` whose state is "unknown" with a
short reason: the public API never raises and never hangs, and an old "all good" is never shown as fresh.

This module imports neither pygls nor lsprotocol: the LSP layer calls `StatusMonitor` and forwards
`status_notification_payload(...)` as the `hiccup/status` notification.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
import random
import re
import ssl
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from hiccup import __version__

logger = logging.getLogger(__name__)

DEFAULT_STATUS_PAGE_URL = "https://status.claude.com"
SUMMARY_PATH = "/api/v2/summary.json"
# Matched by case-insensitive name prefix (as in schemas/settings.schema.json), so "Claude API" matches the
# page's "Claude API (api.anthropic.com)" and survives a renamed parenthesis.
DEFAULT_COMPONENTS: tuple[str, ...] = ("Claude API", "Claude Code", "claude.ai")
USER_AGENT = f"hiccup/{__version__} (+https://github.com/hiccup; status check)"

DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_READ_TIMEOUT = 10.0
DEFAULT_TOTAL_TIMEOUT = 15.0
DEFAULT_MAX_BYTES = 2 * 1024 * 1024
DEFAULT_MAX_REDIRECTS = 2
DEFAULT_POLL_INTERVAL = 60.0
DEFAULT_TTL = 30.0
DEFAULT_BACKOFF_MAX = 15 * 60.0

INDICATORS = ("none", "minor", "major", "critical", "maintenance")
UNKNOWN = "unknown"
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
# Incident statuses that mean "over" when a page still lists the incident for a moment.
_CLOSED_STATUSES = frozenset({"resolved", "postmortem", "completed"})
# Maintenances that are happening now; "scheduled" ones are only announced.
_ACTIVE_MAINTENANCE_STATUSES = frozenset({"in_progress", "verifying"})
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_IMPACT_RANK = {"none": 0, "maintenance": 1, "minor": 2, "major": 3, "critical": 4}
# An incident that lists no components is relevant when its title names Claude or the API:
# "Elevated errors on Claude Opus 4", "API errors across all models".
_RELEVANT_TITLE = re.compile(r"\b(claude|api)\b", re.IGNORECASE)
_MAX_UPDATE_CHARS = 300
_RESOLVED_RETENTION = timedelta(hours=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class StatusConfigError(ValueError):
    """A status page setting Hiccup refuses to use; raised at configuration time, never while polling."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


def validate_status_page_url(url: str) -> str:
    """Return the normalised base URL of a Statuspage page, or raise `StatusConfigError` saying why not.

    https only: the answer steers what the user does next, so it must not be forgeable on the wire. Plain
    http is allowed for loopback hosts so tests can run a local server. Credentials in the URL are refused
    because httpx would send them as an Authorization header. A pasted ".../api/v2/summary.json" is accepted
    and trimmed.
    """
    text = url.strip()
    parts = urlsplit(text)
    if parts.scheme not in ("https", "http"):
        raise StatusConfigError(f"status page URL must start with https:// (got {url!r})")
    host = parts.hostname
    if not host:
        raise StatusConfigError(f"status page URL has no host: {url!r}")
    if parts.username is not None or parts.password is not None:
        raise StatusConfigError("status page URL must not contain a user name or password")
    if parts.scheme == "http" and host not in _LOOPBACK_HOSTS:
        raise StatusConfigError(
            f"status page URL must use https (plain http only for 127.0.0.1, ::1 or localhost): {url!r}"
        )
    if parts.query or parts.fragment:
        raise StatusConfigError(f"status page URL must not have a query or fragment: {url!r}")
    try:
        parts.port  # noqa: B018 - urlsplit only validates the port when it is read
    except ValueError as exc:
        raise StatusConfigError(f"status page URL has an invalid port: {url!r}") from exc
    path = parts.path.rstrip("/")
    if path.endswith(SUMMARY_PATH):
        path = path[: -len(SUMMARY_PATH)]
    return f"{parts.scheme}://{parts.netloc.lower()}{path}"


def _origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    default_port = 443 if parts.scheme == "https" else 80
    return parts.scheme, (parts.hostname or ""), (parts.port or default_port)


def _seconds(value: float) -> str:
    return f"{value:g} s"


def _size(value: int) -> str:
    if value % (1024 * 1024) == 0:
        return f"{value // (1024 * 1024)} MB"
    if value % 1024 == 0:
        return f"{value // 1024} KB"
    return f"{value} bytes"


def format_age(seconds: float) -> str:
    """Ages like "45 s", "7 min", "2 h 5 min", "3 d": short enough for a status bar tooltip."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        hours, minutes = divmod(seconds // 60, 60)
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{seconds // 86400} d"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _matches_watched(name: str, watched: Iterable[str]) -> bool:
    lowered = name.casefold()
    return any(lowered.startswith(prefix.casefold()) for prefix in watched)


@dataclass(frozen=True, slots=True)
class Component:
    """A status page component as the page names it: ("Claude API (api.anthropic.com)", "operational")."""

    name: str
    status: str  # operational | degraded_performance | partial_outage | major_outage | under_maintenance

    @property
    def label(self) -> str:
        return self.status.replace("_", " ")


@dataclass(frozen=True, slots=True)
class Incident:
    """An incident or a maintenance: Statuspage gives both the same shape."""

    id: str
    name: str
    status: str  # investigating | identified | monitoring | resolved; maintenances: in_progress ...
    impact: str  # none | minor | major | critical | maintenance
    shortlink: str | None
    last_update: str | None  # body of the newest incident_update, whitespace collapsed
    started_at: datetime | None
    updated_at: datetime | None
    components: tuple[str, ...] = ()
    resolved_at: datetime | None = None  # from the payload, or when Hiccup saw the incident disappear
    scheduled_until: datetime | None = None  # maintenances only


@dataclass(frozen=True, slots=True)
class StatusSummary:
    """What the status page said (or why we could not tell), when, and what it said last time it answered.

    `indicator` is the page's overall indicator, or "unknown" with `unknown_reason` set when the check failed;
    then `last_good` holds the previous good summary so callers can say "last good answer 7 min ago: ...".
    `components` holds every non-group component in page order; `watched` the configured name prefixes.
    `resolved` lists incidents that were open in an earlier answer and are gone now (summary.json lists only
    unresolved incidents, so this is the only way to say "the page reports it resolved").
    """

    indicator: str
    description: str
    components: tuple[Component, ...]
    incidents: tuple[Incident, ...]
    maintenances: tuple[Incident, ...]
    fetched_at: datetime
    unknown_reason: str | None = None
    last_good: StatusSummary | None = None
    resolved: tuple[Incident, ...] = ()
    watched: tuple[str, ...] = DEFAULT_COMPONENTS
    page_url: str = DEFAULT_STATUS_PAGE_URL

    @classmethod
    def unknown(
        cls,
        reason: str,
        fetched_at: datetime,
        *,
        last_good: StatusSummary | None = None,
        watched: tuple[str, ...] = DEFAULT_COMPONENTS,
        page_url: str = DEFAULT_STATUS_PAGE_URL,
    ) -> StatusSummary:
        return cls(
            indicator=UNKNOWN,
            description=f"status unknown ({reason})",
            components=(),
            incidents=(),
            maintenances=(),
            fetched_at=fetched_at,
            unknown_reason=reason,
            last_good=last_good,
            watched=watched,
            page_url=page_url,
        )

    @property
    def ok(self) -> bool:
        return self.unknown_reason is None

    @property
    def state(self) -> str:
        return self.indicator

    def age_seconds(self, now: datetime | None = None) -> float:
        return max(0.0, ((now or _utcnow()) - self.fetched_at).total_seconds())

    def relevant_components(self) -> tuple[Component, ...]:
        """The watched components; all of them when no configured name matches (a typo must not hide an
        outage)."""
        picked = tuple(c for c in self.components if _matches_watched(c.name, self.watched))
        return picked or self.components

    def is_relevant(self, incident: Incident) -> bool:
        """An incident concerns Claude Code when it lists a watched component, or lists none and its title
        names Claude or the API."""
        if incident.components:
            return any(_matches_watched(name, self.watched) for name in incident.components)
        return bool(_RELEVANT_TITLE.search(incident.name))

    def has_open_incident(self) -> bool:
        return bool(self.incidents)

    def matching_incident(self) -> Incident | None:
        """The open incident most likely behind a Claude Code error: relevant, highest impact, newest."""
        candidates = [i for i in self.incidents if self.is_relevant(i)]
        if not candidates:
            return None
        return max(candidates, key=lambda i: (_IMPACT_RANK.get(i.impact, 0), i.updated_at or _EPOCH))

    def resolved_recently(self, minutes: float = 30.0, now: datetime | None = None) -> Incident | None:
        """A relevant incident the page reported resolved within `minutes` (so a hover can say "resolved, but
        errors continue"). An unknown summary answers from its last good one."""
        source = self if self.ok or self.last_good is None else self.last_good
        now = now or self.fetched_at
        horizon = timedelta(minutes=minutes)
        hits = [
            i
            for i in source.resolved
            if i.resolved_at is not None and now - i.resolved_at <= horizon and source.is_relevant(i)
        ]
        return max(hits, key=lambda i: i.resolved_at or _EPOCH) if hits else None

    def fingerprint(self) -> tuple[object, ...]:
        """What a listener cares about: everything but the check time and the last-good chain."""
        return (
            self.indicator,
            self.description,
            self.unknown_reason,
            self.components,
            self.incidents,
            self.maintenances,
            tuple(i.id for i in self.resolved),
        )

    def _indicator_label(self) -> str:
        return "operational" if self.indicator == "none" else self.indicator

    def headline(self) -> str:
        """The answer in a few words: "all operational", "minor — Elevated errors on X (investigating)"."""
        if not self.ok:
            return self.description
        incident = self.matching_incident() or (self.incidents[0] if self.incidents else None)
        if incident is not None:
            return f"{self._indicator_label()} — {incident.name} ({incident.status})"
        if self.maintenances:
            maintenance = self.maintenances[0]
            return f"maintenance — {maintenance.name} ({maintenance.status.replace('_', ' ')})"
        if self.indicator == "none":
            return "all operational"
        return f"{self.indicator} — {self.description}"

    def short_text(self, now: datetime | None = None) -> str:
        """One line: "Claude status: minor — Elevated errors on Claude Opus 4 (investigating)", or
        "Claude status unknown (HTTP 500); last good answer 7 min ago: all operational"."""
        if self.ok:
            return f"Claude status: {self.headline()}"
        text = f"Claude status unknown ({self.unknown_reason})"
        if self.last_good is not None:
            age = format_age(self.last_good.age_seconds(now or self.fetched_at))
            text += f"; last good answer {age} ago: {self.last_good.headline()}"
        return text

    def markdown(self, now: datetime | None = None) -> str:
        """A few lines for a hover: indicator, relevant components, the matching incident with its latest
        update and link, a recent resolution, and how old the answer is."""
        now = now or _utcnow()
        if self.ok:
            lines = self._markdown_body(now)
        else:
            lines = [f"**Claude status unknown** ({_md(self.unknown_reason or '')})"]
            if self.last_good is not None:
                age = format_age(self.last_good.age_seconds(now))
                lines += ["", f"Last good answer {age} ago:", ""]
                lines += self.last_good._markdown_body(now)
        page = urlsplit(self.page_url).netloc or self.page_url
        lines += ["", f"_Checked {format_age(self.age_seconds(now))} ago · [{_md(page)}]({self.page_url})_"]
        return "\n".join(lines)

    def _markdown_body(self, now: datetime) -> list[str]:
        lines = [f"**Claude status: {self._indicator_label()}** — {_md(self.description)}"]
        lines += [f"- {_md(c.name)}: {c.label}" for c in self.relevant_components()]
        incident = self.matching_incident()
        if incident is not None:
            started = (
                f", started {format_age((now - incident.started_at).total_seconds())} ago"
                if incident.started_at
                else ""
            )
            lines += [
                "",
                f"**Incident:** {_md_link(incident.name, incident.shortlink)} — {incident.status}{started}",
            ]
            if incident.last_update:
                updated = (
                    f" _(updated {format_age((now - incident.updated_at).total_seconds())} ago)_"
                    if incident.updated_at
                    else ""
                )
                lines.append(f"> {_md(incident.last_update)}{updated}")
        for maintenance in self.maintenances:
            until = f" until {_iso(maintenance.scheduled_until)}" if maintenance.scheduled_until else ""
            lines.append(f"- Maintenance in progress: {_md_link(maintenance.name, maintenance.shortlink)}{until}")
        resolved = self.resolved_recently(now=now)
        if resolved is not None and resolved.resolved_at is not None:
            ago = format_age((now - resolved.resolved_at).total_seconds())
            lines.append(f"- The page reports {_md_link(resolved.name, resolved.shortlink)} resolved {ago} ago")
        return lines

    def to_json(self, now: datetime | None = None) -> dict[str, Any]:
        """Plain JSON for `hiccup status --format json` and the `hiccup.checkStatusNow` command result."""
        now = now or _utcnow()
        return {
            "state": self.state,
            "indicator": self.indicator,
            "description": self.description,
            "reason": self.unknown_reason,
            "text": self.short_text(now),
            "url": self.page_url,
            "checkedAt": _iso(self.fetched_at),
            "ageSeconds": int(self.age_seconds(now)),
            "components": [{"name": c.name, "status": c.status} for c in self.relevant_components()],
            "incidents": [_incident_json(i) for i in self.incidents],
            "maintenances": [_incident_json(m) for m in self.maintenances],
            "matchingIncidentId": (m.id if (m := self.matching_incident()) else None),
            "lastGood": self.last_good.to_json(now) if self.last_good is not None else None,
        }


def _incident_json(incident: Incident) -> dict[str, Any]:
    return {
        "id": incident.id,
        "name": incident.name,
        "status": incident.status,
        "impact": incident.impact,
        "shortlink": incident.shortlink,
        "lastUpdate": incident.last_update,
        "startedAt": _iso(incident.started_at) if incident.started_at else None,
        "updatedAt": _iso(incident.updated_at) if incident.updated_at else None,
        "components": list(incident.components),
    }


# Only what can start formatting mid-line: emphasis, code, links ("[" "]"), HTML ("<"), strikethrough ("~").
# Parentheses and "#" stay as they are, so "Claude API (api.anthropic.com)" reads cleanly in raw-text hovers.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>~])")


def _md(text: str) -> str:
    """Escape Markdown: incident titles come from the network and must not turn into links or HTML."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def _md_link(text: str, url: str | None) -> str:
    if url and urlsplit(url).scheme in ("https", "http"):
        return f"[{_md(text)}]({url.replace(')', '%29').replace(' ', '%20')})"
    return _md(text)


def status_notification_payload(
    summary: StatusSummary | None, enabled: bool, status_page_url: str, now: datetime | None = None
) -> dict[str, Any]:
    """The params of the `hiccup/status` notification (docs/protocol.md), always with the same keys:
    {"enabled", "indicator", "text", "tooltip", "url", "incidentUrl", "checkedAt", "ageSeconds"}."""
    payload: dict[str, Any] = {
        "enabled": enabled,
        "indicator": UNKNOWN,
        "text": "Claude: status not checked yet",
        "tooltip": "The status page is checked while a server-side error is active",
        "url": status_page_url,
        "incidentUrl": None,
        "checkedAt": None,
        "ageSeconds": None,
    }
    if not enabled:
        payload.update(text="Claude: status checks off", tooltip="Status page checks are turned off")
        return payload
    if summary is None:
        return payload
    now = now or _utcnow()
    payload["checkedAt"] = _iso(summary.fetched_at)
    payload["ageSeconds"] = int(summary.age_seconds(now))
    payload["indicator"] = summary.indicator
    if not summary.ok:
        payload["text"] = "Claude: status unknown"
        payload["tooltip"] = summary.short_text(now).removeprefix("Claude ")
        return payload
    incident = summary.matching_incident() or (summary.incidents[0] if summary.incidents else None)
    if incident is not None:
        since = incident.started_at or incident.updated_at
        ago = f", {format_age((now - since).total_seconds())} ago" if since else ""
        payload["tooltip"] = f"{incident.name} ({incident.status}{ago})"
        payload["incidentUrl"] = incident.shortlink
    elif summary.maintenances:
        maintenance = summary.maintenances[0]
        payload["tooltip"] = f"{maintenance.name} (maintenance {maintenance.status.replace('_', ' ')})"
        payload["incidentUrl"] = maintenance.shortlink
    else:
        payload["tooltip"] = summary.description
    if summary.indicator == "none":
        payload["text"] = "Claude: operational"
    elif summary.indicator == "maintenance":
        payload["text"] = "Claude: maintenance"
    else:
        payload["text"] = f"Claude: {summary.indicator} {'incident' if incident else 'issues'}"
    return payload


class PayloadError(ValueError):
    """summary.json parsed but is not the shape we read; the message is the short reason shown to users."""


def _parse_time(value: object) -> datetime | None:
    # "2026-09-30T14:45:36.141Z" (status.claude.com), "2019-02-20T13:40:58.572-06:00" (other Statuspage pages)
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


_KIND_NAMES = {dict: "an object", list: "a list", str: "a string"}


def _field(obj: Mapping[str, Any], key: str, kind: type, where: str) -> Any:
    if key not in obj:
        raise PayloadError(f"unexpected payload: missing '{where}{key}'")
    value = obj[key]
    if not isinstance(value, kind):
        raise PayloadError(f"unexpected payload: '{where}{key}' is not {_KIND_NAMES[kind]}")
    return value


def _objects(obj: Mapping[str, Any], key: str, *, required: bool) -> list[Mapping[str, Any]]:
    if key not in obj and not required:
        return []
    items = _field(obj, key, list, "")
    if not all(isinstance(item, dict) for item in items):
        raise PayloadError(f"unexpected payload: '{key}' holds a non-object")
    return items


def _text(value: object, default: str) -> str:
    return value if isinstance(value, str) and value else default


def _list(value: object) -> list[Any]:
    """Optional list fields: anything that is not a list counts as empty rather than failing the summary."""
    return value if isinstance(value, list) else []


def _latest_update(raw: Mapping[str, Any]) -> str | None:
    # "incident_updates": [{"status": "investigating", "body": "We are currently investigating this issue.",
    #                       "created_at": "2026-11-25T09:48:31.150Z", "display_at": ...}, ...]
    # Statuspage lists the newest first; sort anyway rather than trust the order.
    updates = [u for u in _list(raw.get("incident_updates")) if isinstance(u, dict) and isinstance(u.get("body"), str)]
    if not updates:
        return None
    newest = max(updates, key=lambda u: _parse_time(u.get("display_at") or u.get("created_at")) or _EPOCH)
    body = " ".join(newest["body"].split())
    return body if len(body) <= _MAX_UPDATE_CHARS else body[: _MAX_UPDATE_CHARS - 1] + "…"


def _parse_incident(raw: Mapping[str, Any], where: str) -> Incident:
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise PayloadError(f"unexpected payload: {where} without 'name'")
    components = tuple(
        c["name"] for c in _list(raw.get("components")) if isinstance(c, dict) and isinstance(c.get("name"), str)
    )
    shortlink = raw.get("shortlink")
    return Incident(
        id=_text(raw.get("id"), name),
        name=" ".join(name.split()),
        status=_text(raw.get("status"), "investigating"),
        impact=_text(raw.get("impact"), "none"),
        shortlink=shortlink if isinstance(shortlink, str) and shortlink else None,
        last_update=_latest_update(raw),
        started_at=_parse_time(raw.get("started_at")) or _parse_time(raw.get("created_at")),
        updated_at=_parse_time(raw.get("updated_at")),
        components=components,
        resolved_at=_parse_time(raw.get("resolved_at")),
        scheduled_until=_parse_time(raw.get("scheduled_until")),
    )


def parse_summary(
    body: bytes | str,
    *,
    fetched_at: datetime,
    watched: tuple[str, ...] = DEFAULT_COMPONENTS,
    page_url: str = DEFAULT_STATUS_PAGE_URL,
) -> StatusSummary:
    """Read a Statuspage v2 summary.json body; raise `PayloadError` with a short reason when it is not one.

    Shape (status.claude.com, trimmed):
    {"page": {"id": "tymt9n04zgry", "name": "Claude", "url": "https://status.claude.com", ...},
     "components": [{"id": "k8w3r06qmzrp", "name": "Claude API (api.anthropic.com)", "status": "operational",
                     "group": false, ...}, ...],
     "incidents": [{"name": ..., "status": "investigating", "impact": "minor", "shortlink": "https://stspg.io/...",
                    "started_at": ..., "incident_updates": [...], "components": [...]}],
     "scheduled_maintenances": [{..., "status": "in_progress", "scheduled_until": ...}],
     "status": {"indicator": "minor", "description": "Partially Degraded Service"}}
    """
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise PayloadError("not JSON") from None
    if not isinstance(data, dict):
        raise PayloadError("unexpected payload: not a JSON object")
    status = _field(data, "status", dict, "")
    indicator = _field(status, "indicator", str, "status.")
    if indicator not in INDICATORS:
        raise PayloadError(f"unexpected payload: indicator {indicator[:20]!r}")
    description = status.get("description")
    components = []
    for raw in _objects(data, "components", required=True):
        if raw.get("group") is True:
            continue  # a group's status only aggregates its children, which are listed too
        name, state = raw.get("name"), raw.get("status")
        if not isinstance(name, str) or not isinstance(state, str):
            raise PayloadError("unexpected payload: component without 'name' or 'status'")
        components.append(Component(name=name, status=state))
    incidents = [_parse_incident(raw, "incident") for raw in _objects(data, "incidents", required=True)]
    maintenances = [
        _parse_incident(raw, "maintenance") for raw in _objects(data, "scheduled_maintenances", required=False)
    ]
    return StatusSummary(
        indicator=indicator,
        description=" ".join(description.split()) if isinstance(description, str) else indicator,
        components=tuple(components),
        incidents=tuple(i for i in incidents if i.status not in _CLOSED_STATUSES),
        maintenances=tuple(m for m in maintenances if m.status in _ACTIVE_MAINTENANCE_STATUSES),
        fetched_at=fetched_at,
        resolved=tuple(
            replace(i, resolved_at=i.resolved_at or fetched_at) for i in incidents if i.status in _CLOSED_STATUSES
        ),
        watched=watched,
        page_url=page_url,
    )


class _Unknown(Exception):
    """Internal: the check failed for a reason we can name in a few words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _no_cookies() -> CookieJar:
    # A jar whose policy accepts no domain: a Set-Cookie from the page (or a redirect hop) is dropped, so
    # nothing is ever sent back.
    return CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))


def _ssl_context(page_url: str) -> ssl.SSLContext:
    """Loading the CA bundle costs ~100 ms of CPU, so it is done once per client, and only for https pages.
    A loopback http page (tests) gets a context with no trusted roots: it can never be used to trust anyone."""
    if urlsplit(page_url).scheme == "https":
        return httpx.create_ssl_context(trust_env=False)
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


class StatusClient:
    """Fetches summary.json from one configured page and turns every outcome into a `StatusSummary`.

    It keeps only what conditional requests need (the last good summary and its ETag / Last-Modified), so a
    304 answer costs the page almost nothing and still counts as a fresh answer.
    """

    def __init__(
        self,
        page_url: str = DEFAULT_STATUS_PAGE_URL,
        *,
        components: Iterable[str] = DEFAULT_COMPONENTS,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
        total_timeout: float = DEFAULT_TOTAL_TIMEOUT,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_redirects: int = DEFAULT_MAX_REDIRECTS,
        now: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.page_url = validate_status_page_url(page_url)
        for label, value in (
            ("connect timeout", connect_timeout),
            ("read timeout", read_timeout),
            ("total timeout", total_timeout),
            ("size cap", max_bytes),
        ):
            if not value > 0:
                raise StatusConfigError(f"status page {label} must be positive (got {value!r})")
        if max_redirects < 0:
            raise StatusConfigError(f"status page redirect limit must not be negative (got {max_redirects!r})")
        self.components = tuple(components)
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.total_timeout = total_timeout
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.now = now
        self._ssl_context: ssl.SSLContext | None = None
        self._last_good: StatusSummary | None = None
        self._etag: str | None = None
        self._last_modified: str | None = None

    @property
    def summary_url(self) -> str:
        return self.page_url + SUMMARY_PATH

    @property
    def last_good(self) -> StatusSummary | None:
        return self._last_good

    async def fetch(self) -> StatusSummary:
        """One check. Never raises (except cancellation) and never takes longer than the total timeout."""
        try:
            outcome = await asyncio.wait_for(self._request(), self.total_timeout)
        except TimeoutError:
            return self._unknown(f"timed out after {_seconds(self.total_timeout)}")
        except _Unknown as exc:
            return self._unknown(exc.reason)
        except httpx.ConnectTimeout:
            return self._unknown(f"timed out connecting after {_seconds(self.connect_timeout)}")
        except (httpx.ReadTimeout, httpx.WriteTimeout, httpx.PoolTimeout):
            return self._unknown(f"timed out after {_seconds(self.read_timeout)} without data")
        except httpx.ConnectError:
            return self._unknown(f"cannot connect to {urlsplit(self.page_url).netloc}")
        except httpx.HTTPError as exc:
            return self._unknown(f"network error: {type(exc).__name__}")
        except Exception as exc:  # the promise is "never an exception out of the public API"
            logger.exception("status check failed unexpectedly")
            return self._unknown(f"internal error: {type(exc).__name__}")

        if outcome is None:  # 304 Not Modified
            if self._last_good is None:
                return self._unknown("HTTP 304 without a cached answer")
            summary = replace(self._last_good, fetched_at=self.now())
        else:
            body, etag, last_modified = outcome
            try:
                summary = parse_summary(body, fetched_at=self.now(), watched=self.components, page_url=self.page_url)
            except PayloadError as exc:
                return self._unknown(str(exc))
            summary = self._with_transitions(summary)
            self._etag, self._last_modified = etag, last_modified
        self._last_good = summary
        return summary

    def _unknown(self, reason: str) -> StatusSummary:
        return StatusSummary.unknown(
            reason, self.now(), last_good=self._last_good, watched=self.components, page_url=self.page_url
        )

    def _with_transitions(self, summary: StatusSummary) -> StatusSummary:
        """Carry "resolved" knowledge forward: an incident open last time and absent now was resolved."""
        previous = self._last_good
        if previous is None:
            return summary
        open_ids = {i.id for i in summary.incidents}
        fresh_ids = {i.id for i in summary.resolved}
        vanished = tuple(
            replace(i, status="resolved", resolved_at=summary.fetched_at)
            for i in previous.incidents
            if i.id not in open_ids and i.id not in fresh_ids
        )
        kept = tuple(
            i
            for i in previous.resolved
            if i.id not in open_ids
            and i.id not in fresh_ids
            and i.resolved_at is not None
            and summary.fetched_at - i.resolved_at <= _RESOLVED_RETENTION
        )
        return replace(summary, resolved=summary.resolved + vanished + kept)

    def _conditional_headers(self) -> dict[str, str]:
        if self._last_good is None:
            return {}
        headers = {}
        if self._etag:
            headers["If-None-Match"] = self._etag
        if self._last_modified:
            headers["If-Modified-Since"] = self._last_modified
        return headers

    async def _request(self) -> tuple[bytes, str | None, str | None] | None:
        """GET summary.json: (body, etag, last_modified), None for 304, or `_Unknown`."""
        timeout = httpx.Timeout(
            connect=self.connect_timeout,
            read=self.read_timeout,
            write=self.read_timeout,
            pool=self.connect_timeout,
        )
        if self._ssl_context is None:
            self._ssl_context = _ssl_context(self.page_url)
        # A fresh client per check: no connection or cookie state outlives it, trust_env=False keeps proxy
        # variables and ~/.netrc credentials out, and redirects are ours to judge.
        async with httpx.AsyncClient(
            verify=self._ssl_context,
            timeout=timeout,
            follow_redirects=False,
            trust_env=False,
            cookies=_no_cookies(),
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        ) as client:
            url = self.summary_url
            for _hop in range(self.max_redirects + 1):
                async with client.stream("GET", url, headers=self._conditional_headers()) as response:
                    if response.status_code == httpx.codes.NOT_MODIFIED:
                        return None
                    if response.status_code in _REDIRECT_STATUSES:
                        location = response.headers.get("location")
                        if not location:
                            raise _Unknown(f"HTTP {response.status_code} without a Location")
                        target = urljoin(url, location)
                        if _origin(target) != _origin(self.page_url):
                            raise _Unknown("redirect to other host refused")
                        url = target
                        continue
                    if response.status_code != httpx.codes.OK:
                        raise _Unknown(f"HTTP {response.status_code}")
                    body = await self._read_capped(response)
                    return body, response.headers.get("etag"), response.headers.get("last-modified")
            raise _Unknown("too many redirects")

    async def _read_capped(self, response: httpx.Response) -> bytes:
        """Read at most `max_bytes` (decoded), stopping as soon as the cap is passed, not after the fact."""
        too_large = _Unknown(f"response larger than {_size(self.max_bytes)}")
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise too_large
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > self.max_bytes:
                raise too_large
        return bytes(body)


OnChange = Callable[[StatusSummary], Awaitable[None] | None]


class StatusMonitor:
    """Polls the status page only while asked to, and answers on demand from a short-lived cache.

    The LSP layer calls `set_active(True)` when a server-side incident starts and `set_active(False)` when it
    ends; `check_now()` serves commands and hovers. One request is in flight at most: concurrent callers share
    it. Failures back off exponentially (with jitter so many editors do not retry in step). A disabled monitor
    never touches the network.
    """

    def __init__(
        self,
        client: StatusClient | None = None,
        *,
        enabled: bool = True,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        ttl: float = DEFAULT_TTL,
        backoff_base: float | None = None,
        backoff_max: float = DEFAULT_BACKOFF_MAX,
        jitter: float = 0.2,
        on_change: OnChange | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: Callable[[], float] = random.random,
    ) -> None:
        if not poll_interval > 0 or ttl < 0 or not backoff_max > 0 or jitter < 0:
            raise StatusConfigError("status poll interval, cache TTL, backoff and jitter must be positive")
        self.client = client if client is not None else StatusClient()
        self.poll_interval = poll_interval
        self.ttl = ttl
        self.backoff_base = backoff_base if backoff_base is not None else poll_interval
        self.backoff_max = backoff_max
        self.jitter = jitter
        self._enabled = enabled
        self._on_change = on_change
        self._monotonic = monotonic
        self._sleep = sleep
        self._rng = rng
        self._summary: StatusSummary | None = None
        self._next_allowed = 0.0
        self._failures = 0
        self._inflight: asyncio.Task[StatusSummary] | None = None
        self._poller: asyncio.Task[None] | None = None

    @property
    def enabled(self) -> bool:
        return self._enabled

    @property
    def active(self) -> bool:
        """True while a poll loop is running."""
        return self._poller is not None and not self._poller.done()

    @property
    def summary(self) -> StatusSummary | None:
        """The latest summary (None before the first check)."""
        return self._summary

    @property
    def consecutive_failures(self) -> int:
        return self._failures

    def set_enabled(self, enabled: bool) -> None:
        """Turn all requests on or off (the `hiccup.statusPage.enabled` setting); off also stops polling."""
        self._enabled = enabled
        if not enabled:
            self._stop_polling()

    def set_active(self, active: bool) -> None:
        """Poll every `poll_interval` while True (checking at once); stop at once when False.

        Must be called from the event loop's thread (LSP handlers are). No-op when disabled.
        """
        if active and self._enabled and not self.active:
            self._poller = asyncio.get_running_loop().create_task(self._poll(), name="hiccup-status-poll")
        elif not active:
            self._stop_polling()

    async def check_now(self, force: bool = False) -> StatusSummary:
        """The current summary: from the cache within the TTL (or while backing off after a failure) unless
        `force`, otherwise from the page. Joins a request already in flight instead of starting another."""
        if not self._enabled:
            return StatusSummary.unknown(
                "status checks are turned off",
                self.client.now(),
                last_good=self.client.last_good,
                watched=self.client.components,
                page_url=self.client.page_url,
            )
        if self._inflight is None:
            if not force and self._summary is not None and self._monotonic() < self._next_allowed:
                return self._summary
            self._inflight = asyncio.get_running_loop().create_task(self._fetch(), name="hiccup-status-fetch")
        # shield: a caller that gives up (a cancelled hover) must not cancel the request the others wait for.
        return await asyncio.shield(self._inflight)

    def backoff_delay(self, failures: int) -> float:
        """Seconds before the next attempt after `failures` consecutive failures: base·2^(n-1), capped, plus
        up to `jitter`·delay of randomness."""
        delay = min(self.backoff_max, self.backoff_base * 2 ** max(0, failures - 1))
        return delay * (1.0 + self.jitter * self._rng())

    async def aclose(self) -> None:
        """Stop polling and drop any request in flight (server shutdown)."""
        self._stop_polling()
        inflight, self._inflight = self._inflight, None
        if inflight is not None and not inflight.done():
            inflight.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await inflight

    def _stop_polling(self) -> None:
        poller, self._poller = self._poller, None
        if poller is not None:
            poller.cancel()

    async def _fetch(self) -> StatusSummary:
        try:
            summary = await self.client.fetch()
        finally:
            self._inflight = None
        now = self._monotonic()
        if summary.ok:
            self._failures = 0
            self._next_allowed = now + self.ttl
        else:
            self._failures += 1
            self._next_allowed = now + self.backoff_delay(self._failures)
        previous, self._summary = self._summary, summary
        if previous is None or previous.fingerprint() != summary.fingerprint():
            await self._notify(summary)
        return summary

    async def _notify(self, summary: StatusSummary) -> None:
        if self._on_change is None:
            return
        try:
            result = self._on_change(summary)
            if inspect.isawaitable(result):
                await result
        except Exception:  # a broken listener must not stop the checks
            logger.exception("status on_change callback failed")

    async def _poll(self) -> None:
        while True:
            summary = await self.check_now()
            # After a failure the next attempt waits for the backoff, not the regular interval.
            delay = self.poll_interval if summary.ok else max(0.0, self._next_allowed - self._monotonic())
            await self._sleep(delay)
