"""How findings read on a terminal: compiler-style lines, JSON lines, and the full advice for `explain`.

The compiler convention (`path:line:col: severity: message`) makes findings clickable in editors and
terminals without any plugin.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from hiccup.catalog import Catalog, Category, builtin_catalog
from hiccup.classifier import Finding


def severity_of(category: Category) -> str:
    """Server-side trouble is a warning (it clears by itself); what needs the user's action is an error."""
    return "warning" if category.transient else "error"


def clears_phrase(category: Category) -> str:
    n = category.timings.clears_within_min
    return f"1–{n:g} min" if n > 1 else f"{n:g} min"


def _short_step(category: Category) -> str:
    step = category.quick_steps[0] if category.quick_steps else "see the advice"
    step = step.replace("`", "").rstrip(".")
    return step[0].lower() + step[1:] if step else step


def message_for(finding: Finding, category: Category, now: datetime | None = None) -> str:
    """One line that stands on its own (inline renderers show nothing else)."""
    now = now or datetime.now(UTC)
    if finding.category == "usage_limit" and finding.reset_at is not None:
        minutes = int((finding.reset_at - now).total_seconds() // 60)
        local = finding.reset_at.astimezone().strftime("%H:%M")
        if minutes > 0:
            return f"Usage limit — resets at {local} (in {minutes} min)"
        return f"Usage limit — reset time {local} has passed; try again"
    head = category.summary
    if finding.http_status and str(finding.http_status) not in head:
        head = f"{head} (HTTP {finding.http_status})"
    if category.transient:
        return f"{head} — usually clears in {clears_phrase(category)}"
    return f"{head} — {_short_step(category)}"



def format_text(path: str, f: Finding, catalog: Catalog | None = None) -> str:
    cat = (catalog or builtin_catalog()).get(f.category)
    return f"{path}:{f.line + 1}:{f.start + 1}: {severity_of(cat)}: {message_for(f, cat)} [{f.category}]"


def finding_dict(path: str, f: Finding, catalog: Catalog | None = None) -> dict[str, object]:
    cat = (catalog or builtin_catalog()).get(f.category)
    return {
        "path": path,
        "line": f.line + 1,
        "column": f.start + 1,
        "end_line": f.line + 1,
        "end_column": f.end + 1,
        "category": f.category,
        "severity": severity_of(cat),
        "message": message_for(f, cat),
        "http_status": f.http_status,
        "error_type": f.error_type,
        "request_id": f.request_id,
        "timestamp": f.timestamp.isoformat() if f.timestamp else None,
        "attempt": list(f.attempt) if f.attempt else None,
        "reset_at": f.reset_at.isoformat() if f.reset_at else None,
        "excerpt": f.excerpt,
    }


def format_json(path: str, f: Finding, catalog: Catalog | None = None) -> str:
    return json.dumps(finding_dict(path, f, catalog), ensure_ascii=False)


def explain_text(category: Category, finding: Finding | None, catalog: Catalog) -> str:
    """The whole advice for one category, in the order a developer needs it."""
    lines = [f"{category.title} [{category.id}]", "", category.meaning, ""]
    if finding is not None:
        facts = [f"category: {category.id}"]
        if finding.http_status:
            facts.append(f"HTTP {finding.http_status}")
        if finding.error_type:
            facts.append(f"type {finding.error_type}")
        if finding.request_id:
            facts.append(f"request id {finding.request_id}")
        if finding.attempt:
            facts.append(f"attempt {finding.attempt[0]}/{finding.attempt[1]}")
        if finding.reset_at:
            facts.append(f"resets {finding.reset_at.astimezone().strftime('%Y-%m-%d %H:%M %Z')}")
        lines += ["Seen: " + ", ".join(facts), f"  {finding.excerpt}", ""]
    kind = ("Server-side and temporary: it clears without you doing anything." if category.transient
            else "Needs your action: waiting alone will not fix it.")
    lines += [kind, ""]
    t = category.timings
    timing = [f"usually clears within {t.clears_within_min:g} min"]
    if t.restart_after_min:
        timing.append(f"restart Claude Code only after {t.restart_after_min:g} min")
    if t.escalate_after_min:
        timing.append(f"escalate after {t.escalate_after_min:g} min")
    lines += ["Timing: " + "; ".join(timing) + ".", ""]

    def section(title: str, items: tuple[str, ...]) -> None:
        if items:
            lines.append(title)
            lines.extend(f"  - {i}" for i in items)
            lines.append("")

    section("What to do:", category.quick_steps)
    section("What NOT to do:", category.do_not)
    section("Common causes:", category.causes)
    section("Not caused by:", category.not_caused_by)
    section("Escalate when:", category.escalate_when)
    links = [f"Docs: {category.docs_url}"]
    if "status_page" in category.actions:
        links.append(f"Status page: {catalog.status_page_url}")
    if "community" in category.actions:
        links.append(f"Community reports: {catalog.community_url}")
    lines += links
    return "\n".join(lines)
