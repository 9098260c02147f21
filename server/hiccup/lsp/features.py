"""LSP feature handlers: a few lines each, LSP params in, one call into the server's domain state, LSP out."""

from __future__ import annotations

from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from hiccup import advice
from hiccup.lsp import render, status_wiring
from hiccup.lsp.protocol import (
    TERMINAL_CLOSED,
    TERMINAL_DATA,
    TERMINAL_TRANSCRIPT,
    TEST_ADVANCE_CLOCK,
    AdvanceClockParams,
    TerminalClosedParams,
    TerminalDataParams,
    TerminalTranscriptParams,
)
from hiccup.lsp.server import ClientFeatures, HiccupServer
from hiccup.settings import SECTION


def initialize(ls: HiccupServer, params: types.InitializeParams) -> None:
    """initialize: remember the client's optional extensions; settings may ride along in initializationOptions."""
    options = params.initialization_options
    ls.client_features = ClientFeatures(options)
    if info := params.client_info:
        ls.editor = f"{info.name} {info.version or ''}".strip()
    if isinstance(options, dict):
        ls.apply_settings(options.get("settings"))


async def initialized(ls: HiccupServer, params: types.InitializedParams) -> None:
    """initialized: start the clock-driven re-evaluation, then pull settings (background work starts here)."""
    ls.spawn(ls.run_timer())
    if ls.process_id is not None:
        ls.watch_parent(ls.process_id)
    ls.restore_terminals()
    status_wiring.start(ls)
    from hiccup.lsp.watching import start_watching

    try:
        await pull_settings(ls)
    finally:  # after the settings, so that the first lookback reads what they ask for
        start_watching(ls)


async def pull_settings(ls: HiccupServer) -> None:
    """workspace/configuration for the `hiccup` section, when the client supports it."""
    workspace = ls.client_capabilities.workspace
    if not (workspace and workspace.configuration):
        return
    result = await ls.workspace_configuration_async(
        types.ConfigurationParams(items=[types.ConfigurationItem(section=SECTION)]))
    if result:
        ls.apply_settings(result[0])


async def did_change_configuration(ls: HiccupServer, params: types.DidChangeConfigurationParams) -> None:
    """workspace/didChangeConfiguration: push-style clients send the section, pull-style ones send null."""
    settings = params.settings
    if isinstance(settings, dict) and SECTION in settings:
        ls.apply_settings(settings[SECTION])
    else:
        await pull_settings(ls)


def did_change_workspace_folders(ls: HiccupServer, params: types.DidChangeWorkspaceFoldersParams) -> None:
    """workspace/didChangeWorkspaceFolders: follow the Claude Code transcripts of the folders open now."""
    if ls.watching is not None:
        ls.watching.update_targets()


def did_open(ls: HiccupServer, params: types.DidOpenTextDocumentParams) -> None:
    """textDocument/didOpen: classify the whole document once."""
    doc = params.text_document
    if ls.wants_document(doc.uri, doc.language_id):
        ls.open_document(doc.uri, doc.text, doc.version)


def did_change(ls: HiccupServer, params: types.DidChangeTextDocumentParams) -> None:
    """textDocument/didChange: re-classify only the lines each change touched."""
    uri = params.text_document.uri
    if ls.is_terminal_uri(uri) or (doc := ls.documents.get(uri)) is None:
        return  # a terminal transcript is the server's own text: the client's copy never edits it
    codec, now = ls.workspace.position_codec, ls.clock.now()
    for change in params.content_changes:
        if isinstance(change, types.TextDocumentContentChangePartial):
            rng = codec.range_from_client_units(doc.lines, change.range)
            delta = doc.replace((rng.start.line, rng.start.character), (rng.end.line, rng.end.character),
                                change.text, now)
        else:
            delta = doc.replace_all(change.text, now)
        ls.ingest(uri, delta)
    doc.version = params.text_document.version


def did_close(ls: HiccupServer, params: types.DidCloseTextDocumentParams) -> None:
    """textDocument/didClose: clear diagnostics, unless a watcher or a terminal owns the URI."""
    ls.close_document(params.text_document.uri)


def hover(ls: HiccupServer, params: types.HoverParams) -> types.Hover | None:
    """textDocument/hover: explain the incident under the cursor, for this very moment."""
    found = _finding_at(ls, params.text_document.uri, params.position)
    if found is None:
        return None
    doc, line, hit, incident = found
    markdown = advice.hover_markdown(incident, hit.finding, ls.clock.now(), ls.status, ls.thresholds,  # type: ignore[arg-type]
                                     reminder_due=ls.reminders.due_of(incident.id))
    return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=markdown),
                       range=render.hit_range(doc, line, hit, ls.workspace.position_codec))


def _finding_at(ls: HiccupServer, uri: str, pos: types.Position) -> Any:
    doc = ls.documents.get(uri)
    if doc is None:
        if uri in ls.workspace.text_documents:
            return None
        raise JsonRpcInvalidParams(f"unknown document {uri}: open it first")
    hit = doc.hit_at(pos.line)
    if hit is None or hit.finding is None or hit.redraw:
        return None
    incident = ls.incidents.of_key(hit.key)
    if incident is None or incident.category.id in ls.ignored:
        return None
    rng = render.hit_range(doc, pos.line, hit, ls.workspace.position_codec)
    if not rng.start.character <= pos.character <= rng.end.character:
        return None
    return doc, pos.line, hit, incident


def code_action(ls: HiccupServer, params: types.CodeActionParams) -> list[types.CodeAction] | None:
    """textDocument/codeAction: the category's actions (Category.actions), fitted to the incident's state."""
    doc = ls.documents.get(params.text_document.uri)
    if doc is None:
        return None
    return ls.code_actions(doc, params.range, params.context)


def terminal_data(ls: HiccupServer, params: TerminalDataParams) -> None:
    """hiccup/terminalData: append raw terminal output to the terminal's transcript and classify it."""
    term = ls.terminal(params.terminal_id, params.name)
    ls.ingest(term.uri, term.feed(params.data, ls.clock.now()))


def terminal_closed(ls: HiccupServer, params: TerminalClosedParams) -> None:
    """hiccup/terminalClosed: stop following; the transcript and its incidents stay."""
    if (term := ls.terminals.get(params.terminal_id)) is not None:
        term.closed = True


def terminal_transcript(ls: HiccupServer, params: TerminalTranscriptParams) -> dict[str, str]:
    """hiccup/terminalTranscript: the cleaned transcript, for the client's virtual document."""
    for term in ls.terminals.values():
        if term.uri == params.uri:
            return {"uri": term.uri, "text": term.text()}
    raise JsonRpcInvalidParams(f"unknown terminal transcript {params.uri}")


def advance_clock(ls: HiccupServer, params: AdvanceClockParams) -> dict[str, str]:
    """hiccup/_test/advanceClock (tests only): move the manual clock and let time-driven work happen."""
    if params.seconds < 0:
        raise JsonRpcInvalidParams("seconds must be >= 0")
    now = ls.clock.advance(params.seconds)  # type: ignore[attr-defined]
    ls.tick()
    return {"now": now.isoformat()}


def register(server: HiccupServer) -> None:
    server.feature(types.INITIALIZE)(initialize)
    server.feature(types.INITIALIZED)(initialized)
    server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)(did_change_configuration)
    server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)(did_change_workspace_folders)
    server.feature(types.TEXT_DOCUMENT_DID_OPEN)(did_open)
    server.feature(types.TEXT_DOCUMENT_DID_CHANGE)(did_change)
    server.feature(types.TEXT_DOCUMENT_DID_CLOSE)(did_close)
    server.feature(types.TEXT_DOCUMENT_HOVER)(hover)
    server.feature(types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(
        code_action_kinds=[types.CodeActionKind.QuickFix, types.CodeActionKind.Empty]))(code_action)
    server.feature(TERMINAL_DATA)(terminal_data)
    server.feature(TERMINAL_CLOSED)(terminal_closed)
    server.feature(TERMINAL_TRANSCRIPT)(terminal_transcript)


def register_test_hooks(server: HiccupServer) -> None:
    """Only with HICCUP_TEST_CLOCK=1: a production server has no way to move its clock."""
    server.feature(TEST_ADVANCE_CLOCK)(advance_clock)
