"""From domain objects to LSP types: diagnostics and code actions.

Kept apart from the handlers so each handler stays a few lines, and apart from `advice.py` so the words stay
free of LSP types. Columns: findings carry code-point columns of the raw line; the client counts in its position
encoding (UTF-16 unless negotiated), and Claude Code output is full of `⎿ ✻ ⏺` and emoji, so every column is
converted to the negotiated encoding (by the codec in C: see `unit_counter`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from lsprotocol import types
from pygls.workspace import PositionCodec

from hiccup import advice
from hiccup.documents import Document, Hit
from hiccup.followed import FollowedSource
from hiccup.incidents import Incident, IncidentStore, State, StatusFacts, Thresholds

SOURCE = "hiccup"

CMD_OPEN_STATUS_PAGE = "hiccup.openStatusPage"
CMD_CHECK_STATUS_NOW = "hiccup.checkStatusNow"
CMD_REMIND_RESTART = "hiccup.remindRestart"
CMD_RESTART_CLAUDE_CODE = "hiccup.restartClaudeCode"
CMD_OPEN_COMMUNITY = "hiccup.openCommunityReports"
CMD_RELOGIN = "hiccup.relogin"
CMD_COPY_ERROR_REPORT = "hiccup.copyErrorReport"
CMD_IGNORE_CATEGORY = "hiccup.ignoreCategory"
CMD_OPEN_DOCS = "hiccup.openDocs"


@dataclass(frozen=True)
class DiagnosticSupport:
    """What the client said it can show; unsupported fields are left out rather than sent blindly."""

    related_information: bool = False
    code_description: bool = False
    tags: frozenset[int] = frozenset()

    @classmethod
    def of(cls, caps: types.ClientCapabilities | None) -> DiagnosticSupport:
        pd = caps.text_document.publish_diagnostics if caps and caps.text_document else None
        if pd is None:
            return cls()
        tags = frozenset(int(t) for t in pd.tag_support.value_set) if pd.tag_support else frozenset()
        return cls(bool(pd.related_information), bool(pd.code_description_support), tags)


def severity(incident: Incident) -> types.DiagnosticSeverity:
    """Server-side trouble warns; what needs the user's action, or needs reporting, is an error; the past hints."""
    state = incident.state
    if state == State.STALE:
        return types.DiagnosticSeverity.Hint
    if state == State.RECOVERED:
        return types.DiagnosticSeverity.Information
    if state == State.ESCALATE:
        return types.DiagnosticSeverity.Error
    if state == State.PERSISTING:
        return types.DiagnosticSeverity.Warning
    return types.DiagnosticSeverity.Warning if incident.category.transient else types.DiagnosticSeverity.Error


@cache  # one counter per encoding: hit_range asks for it once per diagnostic
def unit_counter(encoding: object) -> Callable[[str], int]:
    """Length in the client's position units, counted by the codec in C: pygls' PositionCodec counts character
    by character, which made a 2,000-error list take 240 ms to render (and a transcript line puts the error text
    thousands of characters in)."""
    if encoding == types.PositionEncodingKind.Utf8:
        return lambda text: len(text.encode("utf-8", "surrogatepass"))
    if encoding == types.PositionEncodingKind.Utf32:
        return len
    return lambda text: len(text.encode("utf-16-le", "surrogatepass")) // 2


def hit_range(doc: Document | FollowedSource, line: int, hit: Hit, codec: PositionCodec) -> types.Range:
    assert hit.finding is not None
    if isinstance(doc, FollowedSource):  # no text kept: its columns were converted when the line was read
        return types.Range(types.Position(line, doc.span(line)[0]), types.Position(line, doc.span(line)[1]))
    raw = doc.line(line)
    units = unit_counter(codec.encoding)
    start = units(raw[: hit.finding.start])
    end = start + units(raw[hit.finding.start: hit.finding.end])
    return types.Range(types.Position(line, start), types.Position(line, end))


@dataclass(frozen=True)
class RenderContext:
    now: datetime
    status: StatusFacts
    thresholds: Thresholds
    ignored: frozenset[str]
    codec: PositionCodec
    support: DiagnosticSupport


def diagnostics(doc: Document | FollowedSource, store: IncidentStore, ctx: RenderContext) -> list[types.Diagnostic]:
    """The full list for one document: one diagnostic per occurrence, repeats pointing at the first."""
    out: list[types.Diagnostic] = []
    first_of: dict[str, types.Range] = {}
    for line, hit in doc.findings():
        incident = store.of_key(hit.key)
        if incident is None or incident.category.id in ctx.ignored:
            continue
        rng = hit_range(doc, line, hit, ctx.codec)
        index = incident.numbers().get(hit.key, 0)
        diag = types.Diagnostic(
            range=rng,
            message=advice.diagnostic_message(incident, index, ctx.now, ctx.status, ctx.thresholds),
            severity=severity(incident),
            source=SOURCE,
            code=incident.category.id,
            data={"incidentId": incident.id, "category": incident.category.id, "state": incident.state.value},
        )
        if ctx.support.code_description and incident.category.docs_url:
            diag.code_description = types.CodeDescription(href=incident.category.docs_url)
        first = first_of.setdefault(incident.id, rng)
        if first is not rng and ctx.support.related_information:
            diag.related_information = [types.DiagnosticRelatedInformation(
                location=types.Location(uri=doc.uri, range=first),
                message=f"first occurrence ({advice.clock_time(incident.first_seen, ctx.now)})",
            )]
        if incident.state == State.STALE and int(types.DiagnosticTag.Unnecessary) in ctx.support.tags:
            diag.tags = [types.DiagnosticTag.Unnecessary]
        out.append(diag)
    return out


@dataclass(frozen=True)
class ActionSpec:
    title: str
    command: str
    kind: str
    arguments: list[Any]


def action_specs(incident: Incident, *, reminder_minutes: float, restart_due: bool,
                 reminder_armed: bool) -> list[ActionSpec]:
    """The actions a category allows (`Category.actions`), in the order it lists them, fitted to the moment.

    The reminder is offered before the restart threshold, the restart itself only after it: before that a restart
    usually just interrupts Claude Code's own retries.
    """
    cat = incident.category
    arg = [{"incidentId": incident.id}]
    open_ = incident.state in (State.ACTIVE, State.PERSISTING, State.ESCALATE)
    quickfix, plain = types.CodeActionKind.QuickFix.value, types.CodeActionKind.Empty.value
    specs: list[ActionSpec] = []
    for action in cat.actions:
        if action == "status_page":
            specs.append(ActionSpec("Open Claude status page", CMD_OPEN_STATUS_PAGE, plain, []))
        elif action == "check_status" and open_:
            specs.append(ActionSpec("Check Claude status now", CMD_CHECK_STATUS_NOW, plain, []))
        elif action == "remind_restart" and open_ and not restart_due and not reminder_armed:
            specs.append(ActionSpec(
                f"Remind me to restart Claude Code in {reminder_minutes:g} min if it still fails",
                CMD_REMIND_RESTART, plain, [{"incidentId": incident.id, "minutes": reminder_minutes}]))
        elif action == "restart" and open_ and restart_due:
            specs.append(ActionSpec("Restart Claude Code", CMD_RESTART_CLAUDE_CODE, quickfix, arg))
        elif action == "community":
            specs.append(ActionSpec("Open community reports (r/ClaudeAI)", CMD_OPEN_COMMUNITY, plain, []))
        elif action == "relogin" and open_:
            specs.append(ActionSpec("Re-login to Claude Code (/login)", CMD_RELOGIN, quickfix, arg))
        elif action == "docs" and cat.docs_url:
            specs.append(ActionSpec(f"Open documentation: {cat.title}", CMD_OPEN_DOCS, plain,
                                    [{"category": cat.id}]))
        elif action == "copy_report":
            specs.append(ActionSpec("Copy error report", CMD_COPY_ERROR_REPORT, plain, arg))
        elif action == "ignore":
            specs.append(ActionSpec(f"Ignore '{cat.title}' in this workspace", CMD_IGNORE_CATEGORY, quickfix,
                                    [{"category": cat.id}]))
    return specs


def code_action(spec: ActionSpec, diags: list[types.Diagnostic]) -> types.CodeAction:
    return types.CodeAction(
        title=spec.title,
        kind=spec.kind,
        diagnostics=diags or None,
        command=types.Command(title=spec.title, command=spec.command, arguments=spec.arguments or None),
    )
