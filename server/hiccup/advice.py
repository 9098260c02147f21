"""Words: diagnostic messages, hover markdown, reminders and error reports (pure functions of incident + time).

The first line of a diagnostic is often all a user sees (inline virtual text, the status bar, a Problems row),
so it must stand alone and say what matters *now*: "Claude API 500: temporary server error — usually clears in
1–3 min", later "…3rd time in 4 min", later "…failing for 6 min: restarting Claude Code is now reasonable".
The hover carries the rest. Everything returned here has been through `redact`.
"""

from __future__ import annotations

import platform
import re
import sys
from collections.abc import Mapping
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING

from hiccup import __version__
from hiccup.incidents import UNKNOWN_STATUS, Incident, State, StatusFacts, Thresholds
from hiccup.redact import redact

if TYPE_CHECKING:
    from hiccup.catalog import Category
    from hiccup.classifier import Finding

RESTART_STEPS = "type `/exit` in Claude Code, then run `claude --continue` (the conversation resumes)"
RELOGIN_STEPS = ("Run `/login` inside Claude Code and sign in again (or check `ANTHROPIC_API_KEY` if you use an "
                 "API key). Logging in again is enough: no reinstall, no new key needed unless it was revoked.")
REPORT_HOW = "report it with `/bug` in Claude Code"


def label(category: Category) -> str:
    """The short name used in repeats: "Claude API 500" out of "Claude API 500: temporary server error"."""
    return category.summary.split(":", 1)[0].strip() or category.title


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def duration(delta: timedelta) -> str:
    """"<1 min", "4 min", "2 h 5 min", "3 days"."""
    minutes = int(delta.total_seconds() // 60)
    if minutes < 1:
        return "<1 min"
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{hours // 24} days"


def clock_time(when: datetime, now: datetime, tz: tzinfo | None = None) -> str:
    """Local wall-clock time, with the date when it is not today."""
    local, today = when.astimezone(tz), now.astimezone(tz)
    return local.strftime("%H:%M") if local.date() == today.date() else local.strftime("%Y-%m-%d %H:%M")


def _clears_phrase(category: Category) -> str:
    n = category.timings.clears_within_min
    return f"usually clears in 1–{n:g} min" if n >= 2 else f"usually clears within {n:g} min"


def _reset_phrase(reset: datetime, now: datetime, tz: tzinfo | None) -> str:
    if reset > now:
        return f"resets at {clock_time(reset, now, tz)} (in {duration(reset - now)})"
    return f"reset time {clock_time(reset, now, tz)} has passed: try again"


def diagnostic_message(incident: Incident, index: int, now: datetime, status: StatusFacts = UNKNOWN_STATUS,
                       th: Thresholds | None = None, tz: tzinfo | None = None) -> str:
    """The message of the `index`-th (1-based) occurrence of `incident` at `now`: one line that stands alone."""
    th = th or Thresholds()
    cat = incident.category
    name = label(cat)
    state = incident.state
    since = duration(incident.elapsed(now))
    if state == State.STALE:
        ago = duration(now - incident.last_seen)
        text = f"{name} — old error from {clock_time(incident.last_seen, now, tz)} ({ago} ago)"
    elif incident.reset_at is not None:
        text = f"{name} — {_reset_phrase(incident.reset_at, now, tz)}"
    elif state == State.RECOVERED:
        if incident.recovered_at is not None:
            text = f"{name} — recovered: Claude answered again at {clock_time(incident.recovered_at, now, tz)}"
        else:
            text = f"{name} — cleared: no new failures since {clock_time(incident.last_seen, now, tz)}"
    elif state == State.ESCALATE:
        if incident.restarts and incident.last_seen > incident.restarts[-1]:
            text = f"{name} — still failing after restarting Claude Code: {REPORT_HOW}"
        elif status.resolved_but_failing:
            text = f"{name} — status page says resolved but it still fails after {since}: {REPORT_HOW}"
        elif status.indicator in (None, "unknown"):  # not checked, or the page could not be read
            text = f"{name} — failing for {since} with no known incident: {REPORT_HOW}"
        else:
            text = f"{name} — failing for {since} and the status page shows no incident: {REPORT_HOW}"
    elif state == State.PERSISTING:
        if status.known_incident:
            text = f"{name} — failing for {since}; {_known_incident(status)}: keep waiting"
        elif th.restart_after(cat) is not None:
            text = f"{name} — failing for {since}: restarting Claude Code is now reasonable"
        else:
            text = f"{name} — failing for {since}"
    elif index > 1:
        span = duration(incident.nth(index).at - incident.first_seen)
        text = f"{name} — {ordinal(index)} time in {span}"
        if cat.transient and status.known_incident:
            text += f"; {_known_incident(status)}"
    elif cat.transient:
        text = f"{cat.summary} — {_known_incident(status) if status.known_incident else _clears_phrase(cat)}"
    else:
        text = cat.summary + (f" — {_first_step(cat)}" if cat.quick_steps else "")
    return redact(text)


def _known_incident(status: StatusFacts) -> str:
    """"known incident: Elevated errors on Claude Opus 4 (https://stspg.io/q4xy0v2kd1hw)"."""
    return f"known incident: {status.known_incident}" + (f" ({status.incident_url})" if status.incident_url else "")


def _first_step(category: Category) -> str:
    """The first quick step, shortened to its first clause ("Run `/login` in Claude Code to sign in again")."""
    step = category.quick_steps[0].rstrip(".")
    return step[0].lower() + step[1:] if step[:1].isupper() and not step[1:2].isupper() else step


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~])")
_UNSAFE_URL = re.compile(r"[\s()<>\[\]]")


def markdown_escape(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", text)


def status_line(status: StatusFacts) -> str | None:
    if status.resolved_but_failing:
        return "**the status page says resolved but errors continue**"
    if status.known_incident:
        # The title comes from a web page: escaped so it cannot inject links or markup into the hover.
        url = status.incident_url or ""
        link = f" ([incident]({url}))" if url.startswith("https://") and not _UNSAFE_URL.search(url) else ""
        return f"status page: **{status.indicator or 'incident'}** — {markdown_escape(status.known_incident)}{link}"
    if status.indicator:
        return f"status page: {status.indicator}" + (" (no incident)" if status.indicator == "none" else "")
    return None


def next_step(incident: Incident, now: datetime, status: StatusFacts, th: Thresholds,
              tz: tzinfo | None = None) -> str:
    """What to do at this very moment, as one sentence or two."""
    cat = incident.category
    state = incident.state
    if state == State.STALE:
        return "Nothing to do: this is an old error. It matters only if it happens again."
    if state == State.RECOVERED:
        return "Nothing to do: it cleared. If it comes back, Hiccup starts counting again."
    if incident.reset_at is not None:
        return f"Wait for the reset ({_reset_phrase(incident.reset_at, now, tz)}), or change plan/billing to go on now."
    if state == State.ESCALATE:
        restarted = bool(incident.restarts) and incident.last_seen > incident.restarts[-1]
        why = ("restarting did not help" if restarted
               else "the status page says resolved but errors continue" if status.resolved_but_failing
               else f"it has failed for {duration(incident.elapsed(now))}")
        return (f"Escalate: {why} and no known incident explains it. {REPORT_HOW[0].upper()}{REPORT_HOW[1:]}, "
                "quoting the request id below, and check whether others report it too.")
    if state == State.PERSISTING and status.known_incident:
        return ("Keep waiting: the status page has a known incident"
                f"{f' ([details]({status.incident_url}))' if status.incident_url else ''}. Restarting won't help "
                "while it lasts.")
    if state == State.PERSISTING and th.restart_after(cat) is not None:
        return f"Restart Claude Code now: {RESTART_STEPS}. Check the status page first."
    if not cat.transient:
        return cat.quick_steps[0] if cat.quick_steps else cat.meaning
    text = f"Wait: this {_clears_phrase(cat)} and Claude Code retries by itself."
    restart = th.restart_after(cat)
    if restart is not None:
        at = incident.first_seen + restart
        text += f" If it still fails at {clock_time(at, now, tz)}, restarting Claude Code is reasonable."
    return text


def hover_markdown(incident: Incident, finding: Finding, now: datetime, status: StatusFacts = UNKNOWN_STATUS,
                   th: Thresholds | None = None, *, reminder_due: datetime | None = None,
                   tz: tzinfo | None = None) -> str:
    """The full explanation under the cursor: meaning, live context, the next step, what not to do, causes."""
    th = th or Thresholds()
    cat = incident.category
    lines = [f"**{cat.summary}** · {cat.title} · `{cat.id}`", "", cat.meaning, ""]

    context = [f"**{incident.state.value}**"]
    if incident.state in (State.ACTIVE, State.PERSISTING, State.ESCALATE):
        context.append(f"for {duration(incident.elapsed(now))}")
    times = "time" if incident.count == 1 else "times"
    context.append(f"seen {incident.count} {times}, first at {clock_time(incident.first_seen, now, tz)}")
    if incident.count > 1:
        context.append(f"last at {clock_time(incident.last_seen, now, tz)}")
    if incident.reset_at is not None:
        context.append(_reset_phrase(incident.reset_at, now, tz))
    if incident.restarts:
        context.append(f"restarted {len(incident.restarts)}× (last at {clock_time(incident.restarts[-1], now, tz)})")
    if finding.attempt:
        context.append(f"retry {finding.attempt[0]}/{finding.attempt[1]}")
    if line := status_line(status):
        context.append(line)
    if reminder_due is not None:
        context.append(f"reminder set for {clock_time(reminder_due, now, tz)}")
    lines += ["**Now:** " + " · ".join(context), "", f"**Next step:** {next_step(incident, now, status, th, tz)}"]

    if incident.state in (State.ACTIVE, State.PERSISTING) and cat.quick_steps:
        lines += ["", "**Steps**", *[f"{i}. {s}" for i, s in enumerate(cat.quick_steps, 1)]]
    if incident.state == State.ESCALATE and cat.escalate_when:
        lines += ["", "**Escalate when:** " + "; ".join(cat.escalate_when)]
    if cat.do_not and incident.state in (State.ACTIVE, State.PERSISTING, State.ESCALATE):
        lines += ["", "**Don't**", *[f"- {s}" for s in cat.do_not]]
    if cat.causes:
        causes = "**Common causes:** " + ", ".join(cat.causes)
        if cat.not_caused_by:
            causes += ". **Not caused by:** " + ", ".join(c[0].lower() + c[1:] for c in cat.not_caused_by)
        lines += ["", causes]
    details = [f"HTTP {finding.http_status}" if finding.http_status else None,
               f"`{finding.error_type}`" if finding.error_type else None]
    ids = incident.request_ids
    if ids:
        details.append("request id " + ", ".join(f"`{r}`" for r in ids[-3:]) + " — quote it when reporting")
    if any(details):
        lines += ["", " · ".join(d for d in details if d)]
    if status.markdown:
        lines += ["", status.markdown]
    return redact("\n".join(lines))


def reminder_prompt(incident: Incident, now: datetime) -> str:
    """The reminder's question, when the incident is still open after the delay the user chose."""
    return redact(f"{label(incident.category)} is still failing ({duration(incident.elapsed(now))}, "
                  f"{incident.count}× so far). Restart Claude Code now? ({RESTART_STEPS})")


def manual_restart_text(incident: Incident) -> str:
    return f"To restart Claude Code: {RESTART_STEPS}. ({label(incident.category)}, incident {incident.id})"


def error_report(incident: Incident, now: datetime, *, extra: Mapping[str, str] | None = None) -> str:
    """Plain text to paste into a bug report or support ticket; no secrets, no file contents beyond the error."""
    f = incident.latest
    utc = "%Y-%m-%dT%H:%M:%SZ"
    rows = [
        ("category", f"{incident.category.id} ({incident.category.title})"),
        ("http status", str(f.http_status) if f.http_status else "-"),
        ("error type", f.error_type or "-"),
        ("request id", ", ".join(incident.request_ids) or "-"),
        ("first seen", incident.first_seen.strftime(utc)),
        ("last seen", incident.last_seen.strftime(utc)),
        ("occurrences", str(incident.count)),
        ("state", f"{incident.state.value} (for {duration(incident.elapsed(now))})"),
        ("restarts", str(len(incident.restarts))),
        ("error", f.excerpt),
        ("hiccup", __version__),
        ("python", f"{platform.python_implementation()} {sys.version.split()[0]} on {platform.system()}"),
        *(extra or {}).items(),
    ]
    width = max(len(k) for k, _ in rows)
    return redact("Claude Code error report (from Hiccup)\n" + "\n".join(f"{k.ljust(width)}  {v}" for k, v in rows))
